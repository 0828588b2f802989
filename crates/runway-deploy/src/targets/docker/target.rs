//! The docker target behind the [`Target`] trait.

use super::*;

impl ContainerState {
    pub(super) fn deployed(&self) -> Deployed {
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
                "env": self.env,
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

    /// A first deployment that failed: its container is stopped (kept, with
    /// its logs, for `docker logs`), so nothing broken serves. Its restart
    /// policy (`unless-stopped`) leaves it stopped.
    async fn stop_current(&self) -> Result<bool, DeployError> {
        let name = self.settings.container.clone();
        if let Some(c) = self.container().await?
            && c.running
        {
            self.stop(&name).await?;
        }
        Ok(true)
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
            .replace(
                &image,
                &request.version,
                ContainerEnv {
                    vars: &request.env,
                    record: &request.env_record,
                },
                &request.health,
                &request.steps,
            )
            .await?;
        let mut deployed = done.current.deployed();
        keep_env(&mut deployed, request);
        Ok(deployed)
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
        let done = self
            .restore(
                wanted,
                &to.version,
                ContainerEnv {
                    vars: &request.env,
                    record: &request.env_record,
                },
                &request.health,
                &request.steps,
            )
            .await?;
        let mut back = done.current.deployed();
        keep_env(&mut back, request);
        if done.current.version.is_none() {
            back.version = to.version.clone();
        }
        if let Some(tag) = &self.settings.rollback_tag {
            let moved = self
                .move_tag(
                    &done.current.image.id,
                    &back.version,
                    tag,
                    self.settings.push,
                    &request.steps,
                )
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
        // Whose output it is: after a swap that put the old container back,
        // the container under this name runs the old version.
        let version = self.container().await?.and_then(|c| c.version);
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
            version,
            text,
            truncated,
        })
    }
}

/// Keeps the environment the container was given with what was deployed,
/// so a rollback can give it back (secrets only by their variable).
fn keep_env(deployed: &mut Deployed, request: &DeployRequest) {
    if request.env_record.is_empty() {
        return;
    }
    if !deployed.detail.is_object() {
        deployed.detail = serde_json::json!({});
    }
    if let Ok(env) = serde_json::to_value(&request.env_record) {
        deployed.detail["env"] = env;
    }
}

impl DockerTarget {
    /// The image a request deploys: its own, else the template with `{version}`.
    pub(super) fn image_for(&self, request: &DeployRequest) -> Result<String, DeployError> {
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
