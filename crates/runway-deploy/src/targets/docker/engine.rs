//! The engine calls the target is made of, each bounded in time.

use super::*;

impl DockerTarget {
    pub(super) async fn inspect_container(
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

    pub(super) async fn inspect_image(
        &self,
        reference: &str,
    ) -> Result<Option<ImageInspect>, DockerError> {
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

    pub(super) async fn state_of(
        &self,
        c: &ContainerInspectResponse,
    ) -> Result<ContainerState, DockerError> {
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
            env: labels
                .and_then(|l| l.get(ENV_LABEL))
                .and_then(|j| serde_json::from_str(j).ok()),
        })
    }

    pub(super) async fn pull(&self, reference: &str) -> Result<(), DockerError> {
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

    pub(super) async fn push(
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

    pub(super) async fn create(
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
        Ok(())
    }

    pub(super) async fn start(&self, name: &str) -> Result<(), DockerError> {
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

    pub(super) async fn stop(&self, name: &str) -> Result<(), DockerError> {
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

    pub(super) async fn rename(&self, from: &str, to: &str) -> Result<(), DockerError> {
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

    pub(super) async fn remove(&self, name: &str) -> Result<(), DockerError> {
        if self.remove_if_exists(name).await? {
            Ok(())
        } else {
            Err(DockerError::NoContainer {
                name: name.to_owned(),
            })
        }
    }

    pub(super) async fn remove_if_exists(&self, name: &str) -> Result<bool, DockerError> {
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
}

pub(super) async fn bounded<F: std::future::Future>(
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
