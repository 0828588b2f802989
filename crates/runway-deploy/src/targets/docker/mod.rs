//! The `docker` target: replace a running container with one from a new image,
//! keeping everything the operator configured on the old one.
//!
//! A Docker host has no rollout controller, so this module is the runbook's
//! "docker stop / docker run with the same flags / docker start the old one
//! if it breaks" done the same way every time:
//! - the new container gets the old one's configuration (env, command, mounts,
//!   labels, network mode, restart policy, resources); values the old *image*
//!   supplied are left for the new image to supply, so a new `ENTRYPOINT` or
//!   default `ENV` takes effect while the operator's overrides carry over;
//! - the old container is stopped and renamed `<name>-runway-previous`, not
//!   removed, until [`DockerTarget::commit`] says the new one was verified;
//! - a rollback restarts that kept container when it still holds the wanted
//!   image, and otherwise runs the recorded image *digest* (the image id), not
//!   a tag that may have moved since;
//! - [`DockerTarget::move_tag`] moves a registry tag (`latest`) back to that
//!   image and pushes it: the Hangar runbook's Docker rollback.
//!
//! Every engine call is bounded in time, and what a container prints is read
//! only up to a byte limit.

use std::{collections::HashMap, fmt, time::Duration};

use async_trait::async_trait;
use bollard::{
    Docker,
    auth::DockerCredentials,
    errors::Error as BollardError,
    models::{
        ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum,
        HostConfig, ImageInspect,
    },
    query_parameters::{
        CreateContainerOptionsBuilder, CreateImageOptionsBuilder, LogsOptionsBuilder,
        PushImageOptionsBuilder, RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder,
        StopContainerOptionsBuilder, TagImageOptionsBuilder,
    },
};
use futures::StreamExt;
use runway_config::{DeployConfig, TargetKind};
use runway_core::{Diagnostic, Exit, Secret};
use tokio::{sync::OnceCell, time::Instant};

use crate::{
    ArtifactCheck, DeployError, DeployRequest, Deployed, HealthWait, Logs, Steps, Target,
    child::Vars,
};

mod engine;
mod error;
mod health;
mod spec;
mod stats;
mod target;
#[cfg(test)]
mod tests;

use engine::bounded;
pub use error::DockerError;
pub use spec::carry_over;
use spec::*;
pub use stats::{resident_bytes, usage_of};

/// The label every container this target starts carries: the version it runs.
pub const VERSION_LABEL: &str = "dev.runway.version";

/// Suffix of the name the replaced container keeps until the new one is verified.
pub const PREVIOUS_SUFFIX: &str = "-runway-previous";

/// Suffix of the name a new container is created under, before the old one
/// stops and it takes the managed name.
pub const NEXT_SUFFIX: &str = "-runway-next";

/// The OCI label an image states its version in, read when a container has no
/// [`VERSION_LABEL`].
pub const OCI_VERSION_LABEL: &str = "org.opencontainers.image.version";

/// The label holding the image reference the container was deployed as
/// (the container itself runs the image id).
pub const IMAGE_LABEL: &str = "dev.runway.image";

/// The label holding the environment the container was deployed with, as a
/// deployment keeps it ([`crate::EnvRecord`]: plain values, and secrets only
/// by the `${VAR}` they are read from), so that what runs can be told apart
/// from the same image run with other settings.
pub const ENV_LABEL: &str = "dev.runway.env";

/// The environment given to a container: the values it gets, and the record
/// of them its label keeps.
#[derive(Clone, Copy)]
pub struct ContainerEnv<'a> {
    pub vars: &'a [(String, Secret)],
    pub record: &'a crate::EnvRecord,
}

/// How long a container with no health URL and no `HEALTHCHECK` must stay
/// running to count as up.
pub const SETTLE: Duration = Duration::from_secs(1);

/// Most of a container's output that is ever read (its last lines).
pub const DEFAULT_LOG_BYTES: usize = 64 * 1024;

/// How the docker target reaches its engine and which container it manages
/// (from `[environments.<name>.deploy]` and its `docker` table).
#[derive(Debug, Clone)]
pub struct DockerSettings {
    pub environment: String,
    /// The engine: `unix:///path/docker.sock` or `tcp://host:port`; `None` reads
    /// `DOCKER_HOST`, else the default socket.
    pub host: Option<String>,
    /// The container to replace (`docker run --name`).
    pub container: String,
    /// The image template (`registry/mcp:{version}`), when the request names none.
    pub image: Option<String>,
    /// Grace period of `docker stop` before the engine kills the old container.
    pub stop_timeout: Duration,
    /// Bound on each engine request, and on each pull or push as a whole.
    pub api_timeout: Duration,
    /// A tag (`registry/mcp:latest`) moved back to the image a rollback runs.
    pub rollback_tag: Option<String>,
    /// Whether the moved tag is pushed.
    pub push: bool,
    /// Credentials for pulls and pushes (a registry's user and password).
    pub registry_auth: Option<RegistryAuth>,
}

impl DockerSettings {
    /// Settings with the defaults: 10 s to stop, 120 s per engine call.
    pub fn new(environment: impl Into<String>, container: impl Into<String>) -> DockerSettings {
        DockerSettings {
            environment: environment.into(),
            host: None,
            container: container.into(),
            image: None,
            stop_timeout: Duration::from_secs(10),
            api_timeout: Duration::from_secs(120),
            rollback_tag: None,
            push: true,
            registry_auth: None,
        }
    }

    /// Reads the environment's deploy table; the registry password comes
    /// from the variable it names, now.
    pub fn from_config(
        environment: &str,
        config: &DeployConfig,
    ) -> Result<DockerSettings, DeployError> {
        let d = &config.docker;
        let field = |f: &str| DeployError::Config {
            environment: environment.to_owned(),
            field: format!("deploy.docker.{f}"),
            message: match f {
                "container" => {
                    "the `docker` target needs `container`: the container it replaces".into()
                }
                _ => format!("`{f}` is not set"),
            },
        };
        let container = d.container.clone().ok_or_else(|| field("container"))?;
        let mut s = DockerSettings::new(environment, container);
        s.host = d.host.clone();
        s.image = config.image.clone();
        if let Some(t) = d.stop_timeout {
            s.stop_timeout = t.get();
        }
        if let Some(t) = d.api_timeout {
            s.api_timeout = t.get();
        }
        s.rollback_tag = d.rollback_tag.clone();
        s.push = d.push.unwrap_or(true);
        if let Some(user) = &d.registry_user {
            let password = match &d.registry_password_env {
                None => Secret::new(""),
                Some(var) => match std::env::var(var) {
                    Ok(v) if !v.is_empty() => Secret::new(v),
                    _ => {
                        return Err(DeployError::Config {
                            environment: environment.to_owned(),
                            field: "deploy.docker.registry_password_env".into(),
                            message: format!(
                                "the registry password variable `{var}` is unset or empty"
                            ),
                        });
                    }
                },
            };
            s.registry_auth = Some(RegistryAuth {
                username: user.clone(),
                password,
            });
        }
        Ok(s)
    }
}

/// A registry login; the password never formats.
#[derive(Debug, Clone)]
pub struct RegistryAuth {
    pub username: String,
    pub password: Secret,
}

impl RegistryAuth {
    fn credentials(&self) -> DockerCredentials {
        DockerCredentials {
            username: Some(self.username.clone()),
            password: Some(self.password.expose().to_owned()),
            ..DockerCredentials::default()
        }
    }
}

/// An image as the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// What the operator named: `repo:tag`, or the id itself.
    pub reference: String,
    /// The image id (`sha256:...`, the digest of its configuration): what a
    /// rollback runs, because a tag may have moved.
    pub id: String,
    /// Registry digests (`repo@sha256:...`) when the image was pulled or pushed.
    pub repo_digests: Vec<String>,
}

/// A container this target runs or ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub image: ImageRef,
    /// The `dev.runway.version` label, else the image's `org.opencontainers.image.version`.
    pub version: Option<String>,
    pub running: bool,
    /// When the engine started it (RFC 3339, as the engine says).
    pub started_at: Option<String>,
    /// The environment it was deployed with ([`ENV_LABEL`]), when Runway
    /// started it with one.
    pub env: Option<crate::EnvRecord>,
}

impl ContainerState {
    /// Whether this container runs `image_id` with `env` (a container
    /// without the label is judged by its image alone).
    fn runs(&self, image_id: &str, env: &crate::EnvRecord) -> bool {
        same_image(&self.image.id, image_id) && self.env.as_ref().is_none_or(|e| e == env)
    }
}

/// The result of [`DockerTarget::deploy`] and [`DockerTarget::rollback`].
#[derive(Debug, Clone)]
pub struct DockerDeployed {
    /// The container now running under the managed name.
    pub current: ContainerState,
    /// The container it replaced, stopped and kept as `<name>-runway-previous`.
    pub previous: Option<ContainerState>,
}

/// A tag moved and pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMoved {
    /// `repo:tag`.
    pub reference: String,
    /// The image id it now names.
    pub image_id: String,
    /// The manifest digest the registry answered with, when pushed.
    pub pushed_digest: Option<String>,
}

/// The docker target. The engine is reached, and an API version agreed with
/// it, on first use.
pub struct DockerTarget {
    settings: DockerSettings,
    host: String,
    docker: OnceCell<Docker>,
}

impl fmt::Debug for DockerTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerTarget")
            .field("settings", &self.settings)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl DockerTarget {
    pub fn new(settings: DockerSettings) -> DockerTarget {
        let host = settings
            .host
            .clone()
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        DockerTarget {
            settings,
            host,
            docker: OnceCell::new(),
        }
    }

    /// The engine client, connected and version-negotiated.
    pub async fn engine(&self) -> Result<&Docker, DockerError> {
        self.docker
            .get_or_try_init(|| async {
                let connect_err = |source| DockerError::Connect {
                    host: self.host.clone(),
                    source,
                };
                let docker = Docker::connect_with_host(&self.host)
                    .map_err(connect_err)?
                    .with_timeout(self.settings.api_timeout);
                bounded(
                    self.settings.api_timeout,
                    "version",
                    &self.host,
                    docker.negotiate_version(),
                )
                .await?
                .map_err(connect_err)
            })
            .await
    }

    pub fn settings(&self) -> &DockerSettings {
        &self.settings
    }

    fn previous_name(&self) -> String {
        format!("{}{PREVIOUS_SUFFIX}", self.settings.container)
    }

    /// The managed container, or `None` when there is none.
    pub async fn container(&self) -> Result<Option<ContainerState>, DockerError> {
        match self.inspect_container(&self.settings.container).await? {
            None => Ok(None),
            Some(c) => Ok(Some(self.state_of(&c).await?)),
        }
    }

    /// The container kept from the last deploy, until it is committed.
    pub async fn previous(&self) -> Result<Option<ContainerState>, DockerError> {
        match self.inspect_container(&self.previous_name()).await? {
            None => Ok(None),
            Some(c) => Ok(Some(self.state_of(&c).await?)),
        }
    }

    /// Resolves `reference` (tag or id) on the engine, pulling it when missing.
    pub async fn resolve_image(&self, reference: &str) -> Result<ImageRef, DockerError> {
        let image = match self.inspect_image(reference).await? {
            Some(i) => i,
            None => {
                self.pull(reference).await?;
                self.inspect_image(reference)
                    .await?
                    .ok_or_else(|| DockerError::Pull {
                        image: reference.to_owned(),
                        message: "the engine reported the pull done but does not have the image"
                            .into(),
                    })?
            }
        };
        Ok(image_ref(reference, &image))
    }

    /// Whether `reference` is on the engine now (no pull): the rollback artifact gate.
    pub async fn image_present(&self, reference: &str) -> Result<Option<ImageRef>, DockerError> {
        Ok(self
            .inspect_image(reference)
            .await?
            .map(|i| image_ref(reference, &i)))
    }

    /// Replaces the managed container with one running `image`, labelled with
    /// `version`, with `env` set on top of the carried-over environment, and
    /// waits for it to be healthy.
    ///
    /// Everything that can be found out without touching what runs is found
    /// out first: the image is resolved (pulled when the engine lacks it),
    /// and the new container is *created* (not started) under a temporary
    /// name. A failure there is [`DockerError::BeforeChange`]: the old
    /// container never stopped. Then the old container is stopped and kept as
    /// `<name>-runway-previous` until [`commit`](Self::commit), and the new
    /// one takes the name and starts. The two never run at once: on the host
    /// network, or with published ports, they would fight for the port, and
    /// a health URL would answer from the old one (see docs/environments.md).
    /// When the new container cannot start, the old one is put back before
    /// the error returns; when it starts but is not healthy, the error carries
    /// its logs and the old one stays kept for [`restore`](Self::restore).
    /// With no container yet, one is created on the host network. Each step
    /// that changes a container is journaled in `steps` before it is taken.
    pub async fn replace(
        &self,
        image: &str,
        version: &str,
        env: ContainerEnv<'_>,
        health: &HealthWait,
        steps: &Steps,
    ) -> Result<DockerDeployed, DockerError> {
        let name = self.settings.container.clone();
        let next = self.next_name();
        let (new_image, old, body) = self
            .prepare(image, version, env)
            .await
            .map_err(DockerError::before_change)?;
        let new_label = label(&next, Some(version));
        // A container left by a deploy that was cut off before it took the name.
        if let Some(left) = self.inspect_container(&next).await? {
            let left = self.state_of(&left).await?;
            self.step(
                steps,
                "remove",
                "removed",
                &label(&next, left.version.as_deref()),
                self.remove(&next),
            )
            .await
            .map_err(DockerError::before_change)?;
        }
        let intent = format!(
            "create {new_label} from `{}` ({})",
            new_image.reference,
            short(&new_image.id)
        );
        // A create that timed out may leave the container behind: the next
        // deploy removes it (above).
        self.journaled(
            steps,
            &intent,
            &format!("created {new_label}"),
            self.create(&next, body),
        )
        .await
        .map_err(DockerError::before_change)?;

        let Some(old) = old else {
            self.step(
                steps,
                "rename",
                "renamed",
                &format!("{new_label} to `{name}`"),
                self.rename(&next, &name),
            )
            .await?;
            let named = label(&name, Some(version));
            self.step(steps, "start", "started", &named, self.start(&name))
                .await?;
            self.wait_healthy(&name, &new_image.reference, health)
                .await?;
            let current = self.must_container().await?;
            return Ok(DockerDeployed {
                current,
                previous: None,
            });
        };

        // A container left from an earlier deploy that was never committed is
        // older than what runs now: what runs now is what a rollback wants.
        let previous = self.previous_name();
        if let Some(stale) = self.inspect_container(&previous).await? {
            let stale = self.state_of(&stale).await?;
            self.step(
                steps,
                "remove",
                "removed",
                &label(&previous, stale.version.as_deref()),
                self.remove(&previous),
            )
            .await?;
        }
        let old_label = label(&name, old.version.as_deref());
        self.step(steps, "stop", "stopped", &old_label, self.stop(&name))
            .await?;
        self.step(
            steps,
            "rename",
            "renamed",
            &format!("{old_label} to `{previous}`"),
            self.rename(&name, &previous),
        )
        .await?;
        self.step(
            steps,
            "rename",
            "renamed",
            &format!("{new_label} to `{name}`"),
            self.rename(&next, &name),
        )
        .await?;
        let named = label(&name, Some(version));
        if let Err(e) = self
            .step(steps, "start", "started", &named, self.start(&name))
            .await
        {
            // Nothing new runs: put the old container back under its name.
            let _ = self
                .step(steps, "remove", "removed", &named, self.remove(&name))
                .await;
            let kept = label(&previous, old.version.as_deref());
            self.step(
                steps,
                "rename",
                "renamed",
                &format!("{kept} to `{name}`"),
                self.rename(&previous, &name),
            )
            .await?;
            self.step(steps, "start", "started", &old_label, self.start(&name))
                .await?;
            return Err(e);
        }
        self.wait_healthy(&name, &new_image.reference, health)
            .await?;
        let current = self.must_container().await?;
        let mut previous_state = old;
        previous_state.name = previous;
        previous_state.running = false;
        Ok(DockerDeployed {
            current,
            previous: Some(previous_state),
        })
    }

    /// What [`replace`](Self::replace) needs, found out with no change: the
    /// new image (pulled when missing), what runs now, and the new
    /// container's configuration carried over from it.
    async fn prepare(
        &self,
        image: &str,
        version: &str,
        env: ContainerEnv<'_>,
    ) -> Result<(ImageRef, Option<ContainerState>, ContainerCreateBody), DockerError> {
        let new_image = self.resolve_image(image).await?;
        let Some(old) = self.inspect_container(&self.settings.container).await? else {
            let mut body = fresh(&new_image, version);
            set_env(&mut body, env);
            return Ok((new_image, None, body));
        };
        let old_state = self.state_of(&old).await?;
        let old_image = self.inspect_image(&old_state.image.id).await?;
        let mut body = carry_over(&old, old_image.as_ref(), &new_image, version);
        set_env(&mut body, env);
        Ok((new_image, Some(old_state), body))
    }

    /// Journals `{verb} {object}` in `steps`, takes the step, then journals
    /// `{done} {object}`.
    async fn step<T>(
        &self,
        steps: &Steps,
        verb: &str,
        done: &str,
        object: &str,
        f: impl std::future::Future<Output = Result<T, DockerError>>,
    ) -> Result<T, DockerError> {
        self.journaled(
            steps,
            &format!("{verb} {object}"),
            &format!("{done} {object}"),
            f,
        )
        .await
    }

    /// Takes the step `f` only once `intent` is journaled; journals `done` after.
    async fn journaled<T>(
        &self,
        steps: &Steps,
        intent: &str,
        done: &str,
        f: impl std::future::Future<Output = Result<T, DockerError>>,
    ) -> Result<T, DockerError> {
        steps.intend(intent).await.map_err(|e| match e {
            DeployError::Journal { step, message } => DockerError::Journal { step, message },
            other => DockerError::Journal {
                step: intent.to_owned(),
                message: other.to_string(),
            },
        })?;
        let out = f.await?;
        steps.did(done).await;
        Ok(out)
    }

    fn next_name(&self) -> String {
        format!("{}{NEXT_SUFFIX}", self.settings.container)
    }

    async fn must_container(&self) -> Result<ContainerState, DockerError> {
        self.container()
            .await?
            .ok_or_else(|| DockerError::NoContainer {
                name: self.settings.container.clone(),
            })
    }

    /// The new container was verified: removes the kept previous one.
    /// Returns whether there was one.
    pub async fn commit(&self) -> Result<bool, DockerError> {
        self.remove_if_exists(&self.previous_name()).await
    }

    /// Goes back to `image_id` (the recorded digest). When the container
    /// under the managed name already runs that image (a deploy cut off after
    /// it stopped the old one, before it renamed it), it is started if
    /// stopped; when the kept previous container runs it, that one is started
    /// again as it was; otherwise a new container is run from the digest with
    /// the current one's configuration and `env` set on top (the environment
    /// that version was deployed with, not the failed one's). Each step is
    /// journaled in `steps`.
    pub async fn restore(
        &self,
        image_id: &str,
        version: &str,
        env: ContainerEnv<'_>,
        health: &HealthWait,
        steps: &Steps,
    ) -> Result<DockerDeployed, DockerError> {
        let name = self.settings.container.clone();
        let previous_name = self.previous_name();
        let current = self.container().await?;
        if let Some(cur) = current.as_ref().filter(|c| c.runs(image_id, env.record)) {
            if !cur.running {
                let named = label(&name, cur.version.as_deref());
                self.step(steps, "start", "started", &named, self.start(&name))
                    .await?;
            }
            self.wait_healthy(&name, &cur.image.reference, health)
                .await?;
            let current = self.must_container().await?;
            return Ok(DockerDeployed {
                current,
                previous: None,
            });
        }
        if let Some(kept) = self.inspect_container(&previous_name).await? {
            let kept_state = self.state_of(&kept).await?;
            if kept_state.runs(image_id, env.record) {
                if let Some(failed) = &current {
                    let failed_label = label(&name, failed.version.as_deref());
                    self.step(steps, "stop", "stopped", &failed_label, self.stop(&name))
                        .await?;
                    self.step(
                        steps,
                        "remove",
                        "removed",
                        &failed_label,
                        self.remove(&name),
                    )
                    .await?;
                }
                let kept_label = label(&previous_name, kept_state.version.as_deref());
                self.step(
                    steps,
                    "rename",
                    "renamed",
                    &format!("{kept_label} to `{name}`"),
                    self.rename(&previous_name, &name),
                )
                .await?;
                let named = label(&name, kept_state.version.as_deref());
                self.step(steps, "start", "started", &named, self.start(&name))
                    .await?;
                self.wait_healthy(&name, &kept_state.image.reference, health)
                    .await?;
                return Ok(DockerDeployed {
                    current: self.must_container().await?,
                    previous: current.map(|mut f| {
                        f.running = false;
                        f
                    }),
                });
            }
        }
        let image = self
            .image_present(image_id)
            .await?
            .ok_or_else(|| DockerError::NoRollback {
                reason: format!("image `{image_id}` is no longer on the Docker engine"),
            })?;
        let deployed = self.replace(&image.id, version, env, health, steps).await?;
        // The failed container is not worth keeping once we are back.
        if let Some(failed) = &deployed.previous {
            self.step(
                steps,
                "remove",
                "removed",
                &label(&failed.name, failed.version.as_deref()),
                self.remove(&failed.name),
            )
            .await?;
        }
        Ok(deployed)
    }

    /// Points `target` (`registry/repo:tag`) at `image` (an id or reference,
    /// running `version`) and, when `push`, pushes it, returning the digest
    /// the registry gave it. The tag and the push are journaled in `steps`.
    pub async fn move_tag(
        &self,
        image: &str,
        version: &str,
        target: &str,
        push: bool,
        steps: &Steps,
    ) -> Result<TagMoved, DockerError> {
        let (repo, tag) = split_tag(target)?;
        let resolved = self
            .image_present(image)
            .await?
            .ok_or_else(|| DockerError::NoRollback {
                reason: format!("image `{image}` is not on the Docker engine"),
            })?;
        let options = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        let t = self.settings.api_timeout;
        let what = format!("`{target}` to {} ({version})", short(&resolved.id));
        let engine = self.engine().await?;
        self.step(steps, "move tag", "moved tag", &what, async {
            bounded(
                t,
                "tag",
                target,
                engine.tag_image(&resolved.id, Some(options)),
            )
            .await?
            .map_err(|source| DockerError::Api {
                call: "tag",
                object: target.to_owned(),
                source,
            })
        })
        .await?;
        let pushed_digest = if push {
            self.step(
                steps,
                "push",
                "pushed",
                &format!("`{target}` ({version})"),
                self.push(repo, tag, target),
            )
            .await?
        } else {
            None
        };
        Ok(TagMoved {
            reference: target.to_owned(),
            image_id: resolved.id,
            pushed_digest,
        })
    }

    /// The last output of `container` (stdout and stderr interleaved), at most
    /// `max_bytes` of it (the end, cut at a line), read within the API timeout.
    pub async fn container_logs(
        &self,
        container: &str,
        max_bytes: usize,
    ) -> Result<String, DockerError> {
        // The engine can only cut by lines; ask for enough lines, then by bytes.
        let lines = (max_bytes / 16).clamp(10, 10_000);
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.engine().await?.logs(container, Some(options));
        let mut out: Vec<u8> = Vec::new();
        let deadline = Instant::now() + self.settings.api_timeout;
        loop {
            let next = match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(n) => n,
                Err(_) => break,
            };
            match next {
                None => break,
                Some(Ok(chunk)) => {
                    out.extend_from_slice(chunk.as_ref());
                    if out.len() > 2 * max_bytes {
                        let cut = out.len() - max_bytes;
                        out.drain(..cut);
                    }
                }
                Some(Err(BollardError::DockerResponseServerError {
                    status_code: 404, ..
                })) => {
                    return Err(DockerError::NoContainer {
                        name: container.to_owned(),
                    });
                }
                Some(Err(source)) => {
                    return Err(DockerError::Api {
                        call: "logs",
                        object: container.to_owned(),
                        source,
                    });
                }
            }
        }
        Ok(tail_bytes(&out, max_bytes))
    }
}
