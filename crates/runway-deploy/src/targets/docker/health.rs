//! The wait for a new container to be running and healthy.

use super::*;

impl DockerTarget {
    /// Polls until the container is running and healthy (its `HEALTHCHECK`
    /// says `healthy`, the health URL answers 2xx, or, with neither, it stayed
    /// running for [`SETTLE`]), failing as soon as it stops or restarts.
    pub(super) async fn wait_healthy(
        &self,
        name: &str,
        image: &str,
        health: &HealthWait,
    ) -> Result<(), DockerError> {
        let timeout = health.timeout;
        let deadline = Instant::now() + timeout;
        let probe = health
            .url
            .as_ref()
            .map(|_| crate::health::Probe::new(timeout));
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
                match (&health.url, &probe) {
                    (Some(url), Some(probe)) => match probe.once(url).await {
                        Ok(()) => return Ok(()),
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
