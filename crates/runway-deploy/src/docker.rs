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
use runway_verify::http::{self, Limits};
use tokio::{sync::OnceCell, time::Instant};

use crate::{
    ArtifactCheck, DeployError, DeployRequest, Deployed, HealthWait, Logs, Target, child::Vars,
};

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

/// Errors of the docker target.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("cannot reach the Docker engine at `{host}`")]
    Connect {
        host: String,
        #[source]
        source: BollardError,
    },
    #[error("the Docker engine refused `{call}` on `{object}`")]
    Api {
        call: &'static str,
        object: String,
        #[source]
        source: BollardError,
    },
    #[error("the Docker engine did not answer `{call}` on `{object}` within {timeout:?}")]
    Timeout {
        call: &'static str,
        object: String,
        timeout: Duration,
    },
    #[error("no container named `{name}` on the Docker engine")]
    NoContainer { name: String },
    #[error("image `{image}` is not on the Docker engine and could not be pulled: {message}")]
    Pull { image: String, message: String },
    #[error("pushing `{reference}` failed: {message}")]
    Push { reference: String, message: String },
    #[error(
        "container `{name}` ({image}) stopped with exit code {exit_code} before it was healthy"
    )]
    Exited {
        name: String,
        image: String,
        exit_code: i64,
        /// The container's last output, bounded.
        logs: String,
    },
    #[error("container `{name}` ({image}) was not healthy within {timeout:?}: {last}")]
    Unhealthy {
        name: String,
        image: String,
        timeout: Duration,
        /// The last thing the probe saw.
        last: String,
        logs: String,
    },
    #[error("nothing to roll back to: {reason}")]
    NoRollback { reason: String },
    #[error("`{reference}` is not a valid image reference for a tag: {reason}")]
    BadReference { reference: String, reason: String },
}

impl DockerError {
    /// The failed container's output, when the error carries it.
    pub fn logs(&self) -> Option<&str> {
        match self {
            DockerError::Exited { logs, .. } | DockerError::Unhealthy { logs, .. } => Some(logs),
            _ => None,
        }
    }
}

impl Diagnostic for DockerError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            DockerError::Connect { .. } => {
                "check that dockerd runs and that `DOCKER_HOST` (or `host` in the deploy table) names its socket".into()
            }
            DockerError::Api { .. } | DockerError::Timeout { .. } => {
                "see the engine's log (`journalctl -u docker` or the dockerd output) for why".into()
            }
            DockerError::NoContainer { name } => format!(
                "the docker target replaces a running container: create it once with `docker run --name {name} ...`"
            ),
            DockerError::Pull { .. } => {
                "build or load the image on this host, or set the registry login in the deploy table".into()
            }
            DockerError::Push { .. } => "check the registry's address and the login for it".into(),
            DockerError::Exited { .. } | DockerError::Unhealthy { .. } => {
                "the previous container is kept: `runway rollback` starts it again".into()
            }
            DockerError::NoRollback { .. } => {
                "name the version to go back to with `--to`, or deploy it again".into()
            }
            DockerError::BadReference { .. } => {
                "write the tag's image as `registry/repository:tag`".into()
            }
        })
    }

    fn exit(&self) -> Exit {
        match self {
            DockerError::Exited { .. } | DockerError::Unhealthy { .. } => Exit::Failed,
            DockerError::NoContainer { .. } | DockerError::BadReference { .. } => Exit::Usage,
            _ => Exit::Internal,
        }
    }
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

    // ---- engine calls, each bounded ----

    async fn inspect_container(
        &self,
        name: &str,
    ) -> Result<Option<ContainerInspectResponse>, DockerError> {
        let t = self.settings.api_timeout;
        match bounded(
            t,
            "inspect",
            name,
            self.engine().await?.inspect_container(name, None),
        )
        .await?
        {
            Ok(c) => Ok(Some(c)),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(source) => Err(DockerError::Api {
                call: "inspect",
                object: name.to_owned(),
                source,
            }),
        }
    }

    async fn inspect_image(&self, reference: &str) -> Result<Option<ImageInspect>, DockerError> {
        let t = self.settings.api_timeout;
        match bounded(
            t,
            "image inspect",
            reference,
            self.engine().await?.inspect_image(reference),
        )
        .await?
        {
            Ok(i) => Ok(Some(i)),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(source) => Err(DockerError::Api {
                call: "image inspect",
                object: reference.to_owned(),
                source,
            }),
        }
    }

    async fn state_of(&self, c: &ContainerInspectResponse) -> Result<ContainerState, DockerError> {
        let id = c.id.clone().unwrap_or_default();
        let image_id = c.image.clone().unwrap_or_default();
        let labels = c.config.as_ref().and_then(|cfg| cfg.labels.as_ref());
        let configured = labels
            .and_then(|l| l.get(IMAGE_LABEL).cloned())
            .or_else(|| c.config.as_ref().and_then(|cfg| cfg.image.clone()))
            .unwrap_or_else(|| image_id.clone());
        let repo_digests = match self.inspect_image(&image_id).await? {
            Some(i) => i.repo_digests.unwrap_or_default(),
            None => Vec::new(),
        };
        let state = c.state.as_ref();
        Ok(ContainerState {
            id,
            name: c
                .name
                .as_deref()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_owned(),
            image: ImageRef {
                reference: configured,
                id: image_id,
                repo_digests,
            },
            // Ours, else the image's standard label (a container Runway did not start).
            version: labels.and_then(|l| {
                l.get(VERSION_LABEL)
                    .or_else(|| l.get(OCI_VERSION_LABEL))
                    .cloned()
            }),
            running: state.and_then(|s| s.running).unwrap_or(false),
            started_at: state.and_then(|s| s.started_at.clone()),
        })
    }

    async fn pull(&self, reference: &str) -> Result<(), DockerError> {
        let options = CreateImageOptionsBuilder::default()
            .from_image(reference)
            .build();
        let credentials = self
            .settings
            .registry_auth
            .as_ref()
            .map(RegistryAuth::credentials);
        let mut stream = self
            .engine()
            .await?
            .create_image(Some(options), None, credentials);
        let deadline = Instant::now() + self.settings.api_timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, stream.next())
                .await
                .map_err(|_| DockerError::Timeout {
                    call: "pull",
                    object: reference.to_owned(),
                    timeout: self.settings.api_timeout,
                })?;
            match next {
                None => return Ok(()),
                Some(Ok(info)) => {
                    if let Some(detail) = info.error_detail {
                        return Err(DockerError::Pull {
                            image: reference.to_owned(),
                            message: detail.message.unwrap_or_default(),
                        });
                    }
                }
                Some(Err(e)) => {
                    return Err(DockerError::Pull {
                        image: reference.to_owned(),
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    async fn push(
        &self,
        repo: &str,
        tag: &str,
        target: &str,
    ) -> Result<Option<String>, DockerError> {
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let credentials = self
            .settings
            .registry_auth
            .as_ref()
            .map(RegistryAuth::credentials);
        let mut stream = self
            .engine()
            .await?
            .push_image(repo, Some(options), credentials);
        let deadline = Instant::now() + self.settings.api_timeout;
        let mut digest = None;
        loop {
            let next = tokio::time::timeout_at(deadline, stream.next())
                .await
                .map_err(|_| DockerError::Timeout {
                    call: "push",
                    object: target.to_owned(),
                    timeout: self.settings.api_timeout,
                })?;
            match next {
                None => return Ok(digest),
                Some(Ok(info)) => {
                    if let Some(detail) = info.error_detail {
                        return Err(DockerError::Push {
                            reference: target.to_owned(),
                            message: detail.message.unwrap_or_default(),
                        });
                    }
                    if let Some(d) = info.status.as_deref().and_then(pushed_digest) {
                        digest = Some(d);
                    }
                }
                Some(Err(e)) => {
                    return Err(DockerError::Push {
                        reference: target.to_owned(),
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    async fn create_and_start(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<(), DockerError> {
        let t = self.settings.api_timeout;
        let options = CreateContainerOptionsBuilder::default().name(name).build();
        bounded(
            t,
            "create",
            name,
            self.engine().await?.create_container(Some(options), body),
        )
        .await?
        .map_err(|source| DockerError::Api {
            call: "create",
            object: name.to_owned(),
            source,
        })?;
        self.start(name).await
    }

    async fn start(&self, name: &str) -> Result<(), DockerError> {
        let t = self.settings.api_timeout;
        bounded(
            t,
            "start",
            name,
            self.engine().await?.start_container(name, None),
        )
        .await?
        .map_err(|source| DockerError::Api {
            call: "start",
            object: name.to_owned(),
            source,
        })
    }

    async fn stop(&self, name: &str) -> Result<(), DockerError> {
        let grace = i32::try_from(self.settings.stop_timeout.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::default().t(grace).build();
        // The engine waits the grace period before it kills: allow for it.
        let t = self.settings.api_timeout + self.settings.stop_timeout;
        match bounded(
            t,
            "stop",
            name,
            self.engine().await?.stop_container(name, Some(options)),
        )
        .await?
        {
            // 304: already stopped.
            Ok(())
            | Err(BollardError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(source) => Err(DockerError::Api {
                call: "stop",
                object: name.to_owned(),
                source,
            }),
        }
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), DockerError> {
        let t = self.settings.api_timeout;
        let options = RenameContainerOptionsBuilder::default().name(to).build();
        bounded(
            t,
            "rename",
            from,
            self.engine().await?.rename_container(from, options),
        )
        .await?
        .map_err(|source| DockerError::Api {
            call: "rename",
            object: from.to_owned(),
            source,
        })
    }

    async fn remove(&self, name: &str) -> Result<(), DockerError> {
        if self.remove_if_exists(name).await? {
            Ok(())
        } else {
            Err(DockerError::NoContainer {
                name: name.to_owned(),
            })
        }
    }

    async fn remove_if_exists(&self, name: &str) -> Result<bool, DockerError> {
        let t = self.settings.api_timeout;
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        match bounded(
            t,
            "remove",
            name,
            self.engine().await?.remove_container(name, Some(options)),
        )
        .await?
        {
            Ok(()) => Ok(true),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(source) => Err(DockerError::Api {
                call: "remove",
                object: name.to_owned(),
                source,
            }),
        }
    }

    /// Polls until the container is running and healthy (its `HEALTHCHECK`
    /// says `healthy`, the health URL answers 2xx, or, with neither, it stayed
    /// running for [`SETTLE`]), failing as soon as it stops or restarts.
    async fn wait_healthy(
        &self,
        name: &str,
        image: &str,
        health: &HealthWait,
    ) -> Result<(), DockerError> {
        let timeout = health.timeout;
        let deadline = Instant::now() + timeout;
        let per_try = Limits {
            timeout: Duration::from_secs(2).min(timeout),
            max_body: 16 * 1024,
        };
        let client = health.url.as_ref().map(|_| http::client(per_try));
        let mut running_since: Option<Instant> = None;
        let mut restarts_at_start: Option<i64> = None;
        let mut last = String::from("not checked yet");
        loop {
            let c =
                self.inspect_container(name)
                    .await?
                    .ok_or_else(|| DockerError::NoContainer {
                        name: name.to_owned(),
                    })?;
            let state = c.state.clone().unwrap_or_default();
            let status = state.status;
            // A restart policy turns a crash into `restarting`, then `running`
            // again: a restart count that moved is a crash too.
            let restarts = c.restart_count.unwrap_or(0);
            let first_restarts = *restarts_at_start.get_or_insert(restarts);
            let stopped = matches!(
                status,
                Some(ContainerStateStatusEnum::EXITED) | Some(ContainerStateStatusEnum::DEAD)
            ) || state.restarting == Some(true)
                || restarts > first_restarts;
            if stopped {
                let logs = self
                    .container_logs(name, DEFAULT_LOG_BYTES)
                    .await
                    .unwrap_or_default();
                return Err(DockerError::Exited {
                    name: name.to_owned(),
                    image: image.to_owned(),
                    exit_code: state.exit_code.unwrap_or(-1),
                    logs,
                });
            }
            let running = state.running == Some(true);
            if running {
                running_since.get_or_insert_with(Instant::now);
            }
            let docker_health = state.health.as_ref().and_then(|h| h.status);
            let health_ok = match docker_health {
                Some(HealthStatusEnum::UNHEALTHY) => {
                    last = "its Docker HEALTHCHECK says `unhealthy`".into();
                    false
                }
                Some(HealthStatusEnum::STARTING) => {
                    last = "its Docker HEALTHCHECK is still `starting`".into();
                    false
                }
                _ => true,
            };
            let has_healthcheck = docker_health == Some(HealthStatusEnum::HEALTHY);
            if running && health_ok {
                match (&health.url, &client) {
                    (Some(url), Some(client)) => match client.get(url.clone()).build() {
                        Ok(req) => match http::fetch(client, req, per_try).await {
                            Ok(o) if (200..300).contains(&o.status) => return Ok(()),
                            Ok(o) => last = format!("`{url}` answered HTTP {}", o.status),
                            Err(e) => last = format!("`{url}`: {e}"),
                        },
                        Err(e) => last = format!("`{url}`: {e}"),
                    },
                    _ => {
                        let settled = running_since.is_some_and(|t| t.elapsed() >= SETTLE);
                        if has_healthcheck || settled {
                            return Ok(());
                        }
                        last = "running, settling".into();
                    }
                }
            } else if !running {
                last = format!(
                    "the container is `{}`",
                    status.map(|s| s.to_string()).unwrap_or_default()
                );
            }
            if Instant::now() + health.interval >= deadline {
                let logs = self
                    .container_logs(name, DEFAULT_LOG_BYTES)
                    .await
                    .unwrap_or_default();
                return Err(DockerError::Unhealthy {
                    name: name.to_owned(),
                    image: image.to_owned(),
                    timeout,
                    last,
                    logs,
                });
            }
            tokio::time::sleep(health.interval).await;
        }
    }
}

async fn bounded<F: std::future::Future>(
    timeout: Duration,
    call: &'static str,
    object: &str,
    f: F,
) -> Result<F::Output, DockerError> {
    tokio::time::timeout(timeout, f)
        .await
        .map_err(|_| DockerError::Timeout {
            call,
            object: object.to_owned(),
            timeout,
        })
}

fn image_ref(reference: &str, image: &ImageInspect) -> ImageRef {
    ImageRef {
        reference: reference.to_owned(),
        id: image.id.clone().unwrap_or_default(),
        repo_digests: image.repo_digests.clone().unwrap_or_default(),
    }
}

/// `sha256:abc` and `abc` (or a unique prefix of it) name the same image.
fn same_image(a: &str, b: &str) -> bool {
    let a = a.strip_prefix("sha256:").unwrap_or(a);
    let b = b.strip_prefix("sha256:").unwrap_or(b);
    !a.is_empty() && !b.is_empty() && (a.starts_with(b) || b.starts_with(a))
}

/// `registry:5000/repo:tag` → (`registry:5000/repo`, `tag`). A digest
/// reference cannot be a tag's target.
fn split_tag(reference: &str) -> Result<(&str, &str), DockerError> {
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
fn pushed_digest(status: &str) -> Option<String> {
    let rest = status.split("digest: ").nth(1)?;
    let digest = rest.split_whitespace().next()?;
    digest.starts_with("sha256:").then(|| digest.to_owned())
}

/// The end of `bytes`, at most `max` of them, starting at a line when it was cut.
fn tail_bytes(bytes: &[u8], max: usize) -> String {
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
fn override_of<T: PartialEq + Clone>(container: &Option<T>, image: Option<&T>) -> Option<T> {
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
fn fresh(image: &ImageRef, version: &str) -> ContainerCreateBody {
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
fn set_env(body: &mut ContainerCreateBody, env: &[(String, Secret)]) {
    if env.is_empty() {
        return;
    }
    let mut all = body.env.take().unwrap_or_default();
    for (k, v) in env {
        let prefix = format!("{k}=");
        all.retain(|e| !e.starts_with(&prefix) && e != k);
        all.push(format!("{k}={}", v.expose()));
    }
    body.env = Some(all);
}

impl From<DockerError> for DeployError {
    fn from(e: DockerError) -> DeployError {
        match e {
            DockerError::Exited {
                name,
                image,
                exit_code,
                logs,
            } => DeployError::Exited {
                status: format!("container `{name}` ({image}) exit code {exit_code}"),
                log: logs,
            },
            DockerError::Unhealthy {
                name,
                timeout,
                last,
                ..
            } => DeployError::Unhealthy {
                url: format!("container `{name}`"),
                after: timeout,
                last,
            },
            other => DeployError::Engine {
                target: "docker",
                message: other.to_string(),
                hint: other.hint(),
            },
        }
    }
}

impl ContainerState {
    fn deployed(&self) -> Deployed {
        Deployed {
            version: self.version.clone().unwrap_or_else(|| "unknown".into()),
            image: Some(self.image.reference.clone()),
            digest: Some(self.image.id.clone()),
            revision: None,
            since: self
                .started_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc)),
            detail: serde_json::json!({
                "container": self.name,
                "container_id": self.id,
                "repo_digests": self.image.repo_digests,
            }),
        }
    }
}

#[async_trait]
impl Target for DockerTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Docker
    }

    async fn current(&self) -> Result<Option<Deployed>, DeployError> {
        Ok(self
            .container()
            .await?
            .filter(|c| c.running)
            .map(|c| c.deployed()))
    }

    async fn check_artifact(&self, previous: &Deployed) -> ArtifactCheck {
        let Some(wanted) = previous.digest.as_deref().or(previous.image.as_deref()) else {
            return ArtifactCheck {
                ok: false,
                what: format!("no image digest is recorded for {}", previous.version),
                hint: Some(
                    "deploy the previous version once with Runway so its digest is recorded".into(),
                ),
            };
        };
        match self.image_present(wanted).await {
            Ok(Some(i)) => ArtifactCheck {
                ok: true,
                what: format!("image `{}` ({}) is on the engine", short(&i.id), previous.version),
                hint: None,
            },
            Ok(None) => ArtifactCheck {
                ok: false,
                what: format!("image `{wanted}` ({}) is not on the engine", previous.version),
                hint: Some(
                    "a rollback needs the previous image: do not prune it, or pull it back by digest"
                        .into(),
                ),
            },
            Err(e) => ArtifactCheck {
                ok: false,
                what: format!("cannot ask the engine about image `{wanted}`: {e}"),
                hint: e.hint(),
            },
        }
    }

    async fn deploy(&self, request: &DeployRequest) -> Result<Deployed, DeployError> {
        let image = self.image_for(request)?;
        let done = self
            .replace(&image, &request.version, &request.env, &request.health)
            .await?;
        Ok(done.current.deployed())
    }

    async fn rollback(
        &self,
        to: &Deployed,
        request: &DeployRequest,
    ) -> Result<Deployed, DeployError> {
        let wanted = to
            .digest
            .as_deref()
            .or(to.image.as_deref())
            .ok_or_else(|| DeployError::NothingToRollBack {
                environment: self.settings.environment.clone(),
                why: format!("no image digest is recorded for {}", to.version),
            })?;
        let done = self.restore(wanted, &to.version, &request.health).await?;
        let mut back = done.current.deployed();
        if done.current.version.is_none() {
            back.version = to.version.clone();
        }
        if let Some(tag) = &self.settings.rollback_tag {
            let moved = self
                .move_tag(&done.current.image.id, tag, self.settings.push)
                .await?;
            back.detail["tag_moved"] = serde_json::json!({
                "reference": moved.reference,
                "image_id": moved.image_id,
                "pushed_digest": moved.pushed_digest,
            });
        }
        Ok(back)
    }

    async fn retire_previous(&self) -> Result<(), DeployError> {
        self.commit().await?;
        Ok(())
    }

    async fn logs(&self, max_bytes: usize) -> Result<Logs, DeployError> {
        let name = &self.settings.container;
        // One byte more than asked says whether older output was left out.
        let text = self.container_logs(name, max_bytes + 1).await?;
        let truncated = text.len() > max_bytes;
        let text = if truncated {
            tail_bytes(text.as_bytes(), max_bytes)
        } else {
            text
        };
        Ok(Logs {
            source: format!("container {name}"),
            text,
            truncated,
        })
    }
}

impl DockerTarget {
    /// The image a request deploys: its own, else the template with `{version}`.
    fn image_for(&self, request: &DeployRequest) -> Result<String, DeployError> {
        if let Some(i) = &request.image {
            return Ok(i.clone());
        }
        let template = self
            .settings
            .image
            .as_deref()
            .ok_or_else(|| DeployError::Config {
                environment: self.settings.environment.clone(),
                field: "deploy.image".into(),
                message: "the `docker` target needs `image = \"registry/name:{version}\"`".into(),
            })?;
        let vars = Vars {
            version: request.version.clone(),
            port: request.port,
            image: None,
            sha: request.sha.clone(),
        };
        Ok(vars.apply(template))
    }
}

/// `sha256:0123456789ab` for people.
fn short(id: &str) -> &str {
    let end = id.find(':').map(|i| i + 13).unwrap_or(12).min(id.len());
    &id[..end]
}

#[cfg(test)]
mod tests {
    use bollard::models::{ContainerConfig, HostConfig, ImageConfig};

    use super::*;

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn carry_over_keeps_the_operators_settings_and_lets_the_new_image_supply_its_own() {
        let old = ContainerInspectResponse {
            config: Some(ContainerConfig {
                env: strings(&["PATH=/bin", "TOKEN_FILE=/run/token", "LEVEL=debug"]),
                entrypoint: strings(&["/runway", "serve-reference", "--version", "1.0.0"]),
                cmd: strings(&["--port", "18710"]),
                labels: Some(HashMap::from([
                    ("image.label".to_owned(), "v1".to_owned()),
                    ("team".to_owned(), "mcp".to_owned()),
                    (VERSION_LABEL.to_owned(), "1.0.0".to_owned()),
                ])),
                ..ContainerConfig::default()
            }),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                binds: strings(&["/srv/data:/data"]),
                ..HostConfig::default()
            }),
            ..ContainerInspectResponse::default()
        };
        let old_image = ImageInspect {
            config: Some(ImageConfig {
                env: strings(&["PATH=/bin", "LEVEL=info"]),
                entrypoint: strings(&["/runway", "serve-reference", "--version", "1.0.0"]),
                cmd: None,
                labels: Some(HashMap::from([("image.label".to_owned(), "v1".to_owned())])),
                ..ImageConfig::default()
            }),
            ..ImageInspect::default()
        };
        let new = ImageRef {
            reference: "mcp:2.0.0".into(),
            id: "sha256:new".into(),
            repo_digests: vec![],
        };
        let body = carry_over(&old, Some(&old_image), &new, "2.0.0");
        assert_eq!(body.image.as_deref(), Some("sha256:new"));
        // The image's entrypoint is left to the new image; the operator's command stays.
        assert_eq!(body.entrypoint, None);
        assert_eq!(body.cmd, strings(&["--port", "18710"]));
        // PATH came from the image; LEVEL was overridden by the operator.
        assert_eq!(body.env, strings(&["TOKEN_FILE=/run/token", "LEVEL=debug"]));
        let labels = body.labels.unwrap();
        assert_eq!(labels.get("team").map(String::as_str), Some("mcp"));
        assert_eq!(labels.get(VERSION_LABEL).map(String::as_str), Some("2.0.0"));
        assert_eq!(
            labels.get(IMAGE_LABEL).map(String::as_str),
            Some("mcp:2.0.0")
        );
        assert!(!labels.contains_key("image.label"));
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("host"));
        assert_eq!(host.binds, strings(&["/srv/data:/data"]));
    }

    #[test]
    fn anonymous_volumes_are_mounted_by_name_so_their_data_follows() {
        use bollard::models::MountPoint;
        let old = ContainerInspectResponse {
            mounts: Some(vec![
                MountPoint {
                    typ: Some("volume".into()),
                    name: Some("abc123".into()),
                    destination: Some("/var/lib/app".into()),
                    rw: Some(true),
                    ..MountPoint::default()
                },
                MountPoint {
                    typ: Some("bind".into()),
                    source: Some("/srv/data".into()),
                    destination: Some("/data".into()),
                    ..MountPoint::default()
                },
            ]),
            host_config: Some(HostConfig {
                binds: strings(&["/srv/data:/data"]),
                ..HostConfig::default()
            }),
            ..ContainerInspectResponse::default()
        };
        let new = ImageRef {
            reference: "img".into(),
            id: "sha256:img".into(),
            repo_digests: vec![],
        };
        let body = carry_over(&old, None, &new, "1");
        assert_eq!(
            body.host_config.unwrap().binds,
            strings(&["/srv/data:/data", "abc123:/var/lib/app"])
        );
    }

    #[test]
    fn tags_split_at_the_last_colon_after_the_last_slash() {
        assert_eq!(
            split_tag("127.0.0.1:5000/mcp/server:latest").unwrap(),
            ("127.0.0.1:5000/mcp/server", "latest")
        );
        assert_eq!(split_tag("server:1.2.3").unwrap(), ("server", "1.2.3"));
        assert!(split_tag("127.0.0.1:5000/server").is_err());
        assert!(split_tag("server@sha256:abc").is_err());
        assert!(split_tag("server:").is_err());
    }

    #[test]
    fn push_status_lines_yield_their_digest() {
        assert_eq!(
            pushed_digest("latest: digest: sha256:997c size: 528").as_deref(),
            Some("sha256:997c")
        );
        assert_eq!(pushed_digest("Pushed"), None);
    }

    #[test]
    fn image_ids_match_with_or_without_the_algorithm() {
        assert!(same_image("sha256:abcdef", "abcdef"));
        assert!(same_image("sha256:abcdef", "sha256:abc"));
        assert!(!same_image("sha256:abcdef", "sha256:abd"));
        assert!(!same_image("", "sha256:abc"));
    }

    #[test]
    fn log_tails_are_cut_at_a_line() {
        assert_eq!(tail_bytes(b"one\ntwo\nthree\n", 100), "one\ntwo\nthree\n");
        assert_eq!(tail_bytes(b"one\ntwo\nthree\n", 8), "three\n");
    }

    fn deploy_table(text: &str) -> DeployConfig {
        let config =
            runway_config::Config::parse(text, std::path::Path::new("/p/runway.toml")).unwrap();
        config.environment("prod").unwrap().deploy.clone().unwrap()
    }

    #[test]
    fn settings_read_the_registry_password_from_its_variable_and_never_show_it() {
        let var = "RUNWAY_TEST_DOCKER_SETTINGS_PASSWORD";
        let table = deploy_table(&format!(
            "[environments.prod.deploy]\ntarget = \"docker\"\nimage = \"r/mcp:{{version}}\"\n\
             [environments.prod.deploy.docker]\ncontainer = \"mcp\"\nstop_timeout = \"3s\"\n\
             rollback_tag = \"r/mcp:latest\"\nregistry_user = \"ci\"\nregistry_password_env = \"{var}\"\n"
        ));
        // The variable is unset: its name is unique to this test.
        match DockerSettings::from_config("prod", &table) {
            Err(DeployError::Config { field, message, .. }) => {
                assert_eq!(field, "deploy.docker.registry_password_env");
                assert!(message.contains(var), "{message}");
            }
            other => panic!("expected a config error, got {other:?}"),
        }
        let with = |value: &str| {
            let mut t = table.clone();
            t.docker.registry_password_env = None;
            let mut s = DockerSettings::from_config("prod", &t).unwrap();
            s.registry_auth = Some(RegistryAuth {
                username: "ci".into(),
                password: Secret::new(value),
            });
            s
        };
        let s = with("hunter2-secret");
        assert_eq!(s.container, "mcp");
        assert_eq!(s.stop_timeout, Duration::from_secs(3));
        assert_eq!(s.rollback_tag.as_deref(), Some("r/mcp:latest"));
        assert!(s.push);
        assert!(!format!("{s:?}").contains("hunter2-secret"));
        let target = DockerTarget::new(s);
        assert!(!format!("{target:?}").contains("hunter2-secret"));
        let request = DeployRequest {
            version: "1.2.3".into(),
            ..DeployRequest::default()
        };
        assert_eq!(target.image_for(&request).unwrap(), "r/mcp:1.2.3");
    }
}
