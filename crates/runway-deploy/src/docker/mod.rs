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
    ArtifactCheck, DeployError, DeployRequest, Deployed, HealthWait, Logs, Target, child::Vars,
};

mod engine;
mod error;
mod health;
mod spec;
mod target;
#[cfg(test)]
mod tests;

use engine::bounded;
pub use error::DockerError;
pub use spec::carry_over;
use spec::*;

/// The label every container this target starts carries: the version it runs.
pub const VERSION_LABEL: &str = "dev.runway.version";

/// Suffix of the name the replaced container keeps until the new one is verified.
pub const PREVIOUS_SUFFIX: &str = "-runway-previous";

/// The OCI label an image states its version in, read when a container has no
/// [`VERSION_LABEL`].
pub const OCI_VERSION_LABEL: &str = "org.opencontainers.image.version";

/// The label holding the image reference the container was deployed as
/// (the container itself runs the image id).
pub const IMAGE_LABEL: &str = "dev.runway.image";

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
    /// waits for it to be healthy. The old container is stopped and kept until
    /// [`commit`](Self::commit). When the new container cannot even be created
    /// or started, the old one is put back before the error returns; when it
    /// starts but is not healthy, the error carries its logs and the old one
    /// stays kept for [`restore`](Self::restore). With no container yet, one is
    /// created on the host network.
    pub async fn replace(
        &self,
        image: &str,
        version: &str,
        env: &[(String, Secret)],
        health: &HealthWait,
    ) -> Result<DockerDeployed, DockerError> {
        let name = self.settings.container.clone();
        let new_image = self.resolve_image(image).await?;
        let Some(old) = self.inspect_container(&name).await? else {
            let mut body = fresh(&new_image, version);
            set_env(&mut body, env);
            self.create_and_start(&name, body).await?;
            self.wait_healthy(&name, &new_image.reference, health)
                .await?;
            let current = self.must_container().await?;
            return Ok(DockerDeployed {
                current,
                previous: None,
            });
        };
        let old_state = self.state_of(&old).await?;
        let old_image = self.inspect_image(&old_state.image.id).await?;
        let mut body = carry_over(&old, old_image.as_ref(), &new_image, version);
        set_env(&mut body, env);

        // A container left from an earlier deploy that was never committed is
        // older than what runs now: what runs now is what a rollback wants.
        let previous = self.previous_name();
        if self.inspect_container(&previous).await?.is_some() {
            self.remove(&previous).await?;
        }
        self.stop(&name).await?;
        self.rename(&name, &previous).await?;

        let started = self.create_and_start(&name, body).await;
        if let Err(e) = started {
            // Nothing new runs: put the old container back under its name.
            let _ = self.remove_if_exists(&name).await;
            self.rename(&previous, &name).await?;
            self.start(&name).await?;
            return Err(e);
        }
        self.wait_healthy(&name, &new_image.reference, health)
            .await?;
        let current = self.must_container().await?;
        let mut previous_state = old_state;
        previous_state.name = previous;
        previous_state.running = false;
        Ok(DockerDeployed {
            current,
            previous: Some(previous_state),
        })
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

    /// Goes back to `image_id` (the recorded digest). When the kept previous
    /// container runs that image, it is started again as it was; otherwise a
    /// new container is run from the digest with the current one's configuration.
    pub async fn restore(
        &self,
        image_id: &str,
        version: &str,
        health: &HealthWait,
    ) -> Result<DockerDeployed, DockerError> {
        let name = self.settings.container.clone();
        let previous_name = self.previous_name();
        if let Some(kept) = self.inspect_container(&previous_name).await? {
            let kept_state = self.state_of(&kept).await?;
            if same_image(&kept_state.image.id, image_id) {
                let failed = self.container().await?;
                if failed.is_some() {
                    self.stop(&name).await?;
                    self.remove(&name).await?;
                }
                self.rename(&previous_name, &name).await?;
                self.start(&name).await?;
                self.wait_healthy(&name, &kept_state.image.reference, health)
                    .await?;
                let current = self.must_container().await?;
                return Ok(DockerDeployed {
                    current,
                    previous: failed.map(|mut f| {
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
        let deployed = self.replace(&image.id, version, &[], health).await?;
        // The failed container is not worth keeping once we are back.
        self.commit().await?;
        Ok(deployed)
    }

    /// Points `target` (`registry/repo:tag`) at `image` (an id or reference)
    /// and, when `push`, pushes it, returning the digest the registry gave it.
    pub async fn move_tag(
        &self,
        image: &str,
        target: &str,
        push: bool,
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
        bounded(
            t,
            "tag",
            target,
            self.engine().await?.tag_image(&resolved.id, Some(options)),
        )
        .await?
        .map_err(|source| DockerError::Api {
            call: "tag",
            object: target.to_owned(),
            source,
        })?;
        let pushed_digest = if push {
            Some(self.push(repo, tag, target).await?)
        } else {
            None
        };
        Ok(TagMoved {
            reference: target.to_owned(),
            image_id: resolved.id,
            pushed_digest: pushed_digest.flatten(),
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
