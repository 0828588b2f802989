//! The `kubernetes` target: a new image for one container of a Deployment,
//! waited for properly, and a rollback to an exact revision.
//!
//! `kubectl set image` plus `kubectl rollout status` plus `kubectl rollout
//! undo --to-revision`, done through the API with kube-rs:
//! - the image is set with a `kubernetes.io/change-cause` annotation, so the
//!   cluster's own rollout history says who changed what;
//! - the wait is `rollout status`'s: the controller has seen the new
//!   generation (`observedGeneration`), every replica is updated and
//!   available, no old replica is left, and a `Progressing` condition with
//!   reason `ProgressDeadlineExceeded` fails it at once;
//! - what [`Target::current`] returns carries the Deployment's revision, and a
//!   rollback puts back the pod template of the ReplicaSet with *that*
//!   revision, never "the previous one" (which, after a failed rollback or two
//!   deploys in a row, is not the one that was verified).
//!
//! The Deployment is replaced with its `resourceVersion`, so a concurrent
//! change by someone else fails the call instead of being overwritten.
//! Every API call is bounded in time.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use async_trait::async_trait;
use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    core::v1::Pod,
};
use kube::{
    Api, Client,
    api::{ListParams, LogParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
};
use runway_config::{DeployConfig, TargetKind};
use tokio::{sync::OnceCell, time::Instant};

use crate::{
    ArtifactCheck, DeployError, DeployRequest, Deployed, Logs, Target, child::Vars, health,
};

/// The annotation the deployment controller keeps the revision in.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The annotation `kubectl rollout history` shows.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
/// The pod-template annotation holding the version Runway deployed.
pub const VERSION_ANNOTATION: &str = "dev.runway/version";
/// The label the controller adds to a ReplicaSet's template (not part of the Deployment's).
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// How the kubernetes target finds its Deployment (from `[deploy.kubernetes]`).
#[derive(Debug, Clone)]
pub struct KubernetesSettings {
    pub environment: String,
    /// `None`: the kubeconfig context's namespace, else `default`.
    pub namespace: Option<String>,
    pub deployment: String,
    /// `None`: the pod template's only container.
    pub container: Option<String>,
    /// `None`: `KUBECONFIG`, `~/.kube/config`, or the in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `None`: the Deployment's `progressDeadlineSeconds` plus a minute.
    pub rollout_timeout: Option<Duration>,
    /// The image template (`registry/mcp:{version}`), when the request names none.
    pub image: Option<String>,
    /// Bound on each API call.
    pub api_timeout: Duration,
    /// Time between two looks at the rollout.
    pub poll: Duration,
}

impl KubernetesSettings {
    pub fn new(environment: impl Into<String>, deployment: impl Into<String>) -> Self {
        KubernetesSettings {
            environment: environment.into(),
            namespace: None,
            deployment: deployment.into(),
            container: None,
            kubeconfig: None,
            context: None,
            rollout_timeout: None,
            image: None,
            api_timeout: Duration::from_secs(30),
            poll: Duration::from_secs(2),
        }
    }

    pub fn from_config(
        environment: &str,
        config: &DeployConfig,
        root: &std::path::Path,
    ) -> Result<KubernetesSettings, DeployError> {
        let k = &config.kubernetes;
        let deployment = k.deployment.clone().ok_or_else(|| DeployError::Config {
            environment: environment.to_owned(),
            field: "deploy.kubernetes.deployment".into(),
            message:
                "the `kubernetes` target needs `deployment`: the Deployment whose image it sets"
                    .into(),
        })?;
        let mut s = KubernetesSettings::new(environment, deployment);
        s.namespace = k.namespace.clone();
        s.container = k.container.clone();
        s.kubeconfig = k.kubeconfig.as_ref().map(|p| root.join(p));
        s.context = k.context.clone();
        s.rollout_timeout = k.rollout_timeout.map(|d| d.get());
        s.image = config.image.clone();
        Ok(s)
    }
}

/// The kubernetes target. The client is made from the kubeconfig on first use.
pub struct KubernetesTarget {
    settings: KubernetesSettings,
    client: OnceCell<(Client, String)>,
}

impl std::fmt::Debug for KubernetesTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesTarget")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Done: every replica updated and available.
    Complete,
    /// Still going, with why (`2 of 3 updated replicas are available`).
    Waiting(String),
    /// The controller gave up (`ProgressDeadlineExceeded`), with its message.
    Stuck(String),
}

/// `kubectl rollout status`'s verdict on a Deployment.
pub fn rollout_status(d: &Deployment) -> Rollout {
    let generation = d.metadata.generation.unwrap_or(0);
    let spec_replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(status) = &d.status else {
        return Rollout::Waiting("the controller has not reported a status yet".into());
    };
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Waiting(format!(
            "the controller has not seen generation {generation} yet"
        ));
    }
    if let Some(c) = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    {
        return Rollout::Stuck(
            c.message
                .clone()
                .unwrap_or_else(|| "ProgressDeadlineExceeded".into()),
        );
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < spec_replicas {
        return Rollout::Waiting(format!("{updated} of {spec_replicas} replicas are updated"));
    }
    if replicas > updated {
        return Rollout::Waiting(format!(
            "{} old replicas are pending termination",
            replicas - updated
        ));
    }
    if available < updated {
        return Rollout::Waiting(format!(
            "{available} of {updated} updated replicas are available"
        ));
    }
    Rollout::Complete
}

fn engine(message: impl Into<String>, hint: Option<String>) -> DeployError {
    DeployError::Engine {
        target: "kubernetes",
        message: message.into(),
        hint,
    }
}

fn api_error(call: &str, object: &str, e: kube::Error) -> DeployError {
    let hint = match &e {
        kube::Error::Api(s) if s.code == 401 || s.code == 403 => Some(
            "the kubeconfig's user may not do this: it needs get/update on deployments and list on replicasets and pods".into(),
        ),
        kube::Error::Api(s) if s.code == 409 => {
            Some("someone else changed the Deployment meanwhile: look at it, then run again".into())
        }
        kube::Error::Api(s) if s.code == 404 => Some(
            "check `deployment` and `namespace` in the environment's `deploy.kubernetes` table"
                .into(),
        ),
        _ => Some("check that the API server is reachable with this kubeconfig".into()),
    };
    engine(format!("{call} `{object}`: {e}"), hint)
}

async fn bounded<T>(
    timeout: Duration,
    call: &str,
    object: &str,
    f: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, DeployError> {
    match tokio::time::timeout(timeout, f).await {
        Ok(r) => r.map_err(|e| api_error(call, object, e)),
        Err(_) => Err(DeployError::Timeout {
            what: format!("kubernetes {call} `{object}`"),
            after: timeout,
        }),
    }
}

fn annotation<'a>(meta: &'a kube::api::ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

fn revision_of(d: &Deployment) -> Option<String> {
    annotation(&d.metadata, REVISION).map(str::to_owned)
}

impl KubernetesTarget {
    pub fn new(settings: KubernetesSettings) -> KubernetesTarget {
        KubernetesTarget {
            settings,
            client: OnceCell::new(),
        }
    }

    /// A target that talks through `client` (whose default namespace applies
    /// when the settings name none).
    pub fn with_client(settings: KubernetesSettings, client: Client) -> KubernetesTarget {
        let namespace = settings
            .namespace
            .clone()
            .unwrap_or_else(|| client.default_namespace().to_owned());
        KubernetesTarget {
            settings,
            client: OnceCell::new_with(Some((client, namespace))),
        }
    }

    pub fn settings(&self) -> &KubernetesSettings {
        &self.settings
    }

    async fn client(&self) -> Result<&(Client, String), DeployError> {
        self.client
            .get_or_try_init(|| async {
                let s = &self.settings;
                let options = KubeConfigOptions {
                    context: s.context.clone(),
                    ..KubeConfigOptions::default()
                };
                let mut config = match &s.kubeconfig {
                    Some(path) => {
                        let kc = Kubeconfig::read_from(path).map_err(|e| DeployError::Config {
                            environment: s.environment.clone(),
                            field: "deploy.kubernetes.kubeconfig".into(),
                            message: format!("`{}`: {e}", path.display()),
                        })?;
                        kube::Config::from_custom_kubeconfig(kc, &options)
                            .await
                            .map_err(|e| DeployError::Config {
                                environment: s.environment.clone(),
                                field: "deploy.kubernetes.context".into(),
                                message: e.to_string(),
                            })?
                    }
                    None if s.context.is_some() => kube::Config::from_kubeconfig(&options)
                        .await
                        .map_err(|e| DeployError::Config {
                            environment: s.environment.clone(),
                            field: "deploy.kubernetes.context".into(),
                            message: e.to_string(),
                        })?,
                    None => kube::Config::infer().await.map_err(|e| {
                        engine(
                            format!("no Kubernetes configuration found: {e}"),
                            Some("set `KUBECONFIG`, or `kubeconfig` in the environment's `deploy.kubernetes` table".into()),
                        )
                    })?,
                };
                config.read_timeout = Some(s.api_timeout);
                config.write_timeout = Some(s.api_timeout);
                config.connect_timeout = Some(s.api_timeout);
                let namespace = s
                    .namespace
                    .clone()
                    .unwrap_or_else(|| config.default_namespace.clone());
                let client = Client::try_from(config).map_err(|e| {
                    engine(format!("cannot make a Kubernetes client: {e}"), None)
                })?;
                Ok((client, namespace))
            })
            .await
    }

    async fn deployments(&self) -> Result<Api<Deployment>, DeployError> {
        let (client, ns) = self.client().await?;
        Ok(Api::namespaced(client.clone(), ns))
    }

    /// The Deployment, or `None` when it does not exist.
    pub async fn get(&self) -> Result<Option<Deployment>, DeployError> {
        let api = self.deployments().await?;
        let name = &self.settings.deployment;
        bounded(self.settings.api_timeout, "get", name, api.get_opt(name)).await
    }

    async fn must_get(&self) -> Result<Deployment, DeployError> {
        self.get().await?.ok_or_else(|| {
            engine(
                format!("there is no Deployment `{}`", self.settings.deployment),
                Some("create it once with `kubectl apply`; this target changes an existing Deployment".into()),
            )
        })
    }

    /// Index of the managed container in the pod template.
    fn container_index(&self, d: &Deployment) -> Result<usize, DeployError> {
        let containers = d
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .map(|p| p.containers.as_slice())
            .unwrap_or_default();
        let names = || {
            containers
                .iter()
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.settings.container {
            Some(want) => containers
                .iter()
                .position(|c| &c.name == want)
                .ok_or_else(|| DeployError::Config {
                    environment: self.settings.environment.clone(),
                    field: "deploy.kubernetes.container".into(),
                    message: format!(
                        "the Deployment has no container `{want}`; it has {}",
                        names()
                    ),
                }),
            None if containers.len() == 1 => Ok(0),
            None => Err(DeployError::Config {
                environment: self.settings.environment.clone(),
                field: "deploy.kubernetes.container".into(),
                message: format!(
                    "the Deployment has {} containers ({}): name the one to set with `container`",
                    containers.len(),
                    names()
                ),
            }),
        }
    }

    fn describe(&self, d: &Deployment) -> Deployed {
        let template = d.spec.as_ref().map(|s| &s.template);
        let image = self.container_index(d).ok().and_then(|i| {
            template
                .and_then(|t| t.spec.as_ref())
                .and_then(|p| p.containers.get(i))
                .and_then(|c| c.image.clone())
        });
        let version = template
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| annotation(m, VERSION_ANNOTATION))
            .map(str::to_owned)
            .or_else(|| image.as_deref().and_then(tag_of).map(str::to_owned))
            .unwrap_or_else(|| "unknown".into());
        Deployed {
            version,
            image,
            digest: None,
            revision: revision_of(d),
            since: None,
            detail: serde_json::json!({
                "namespace": d.metadata.namespace,
                "deployment": d.metadata.name,
                "generation": d.metadata.generation,
            }),
        }
    }

    /// Replaces the Deployment (with its `resourceVersion`) and returns the new generation.
    async fn replace(&self, d: &Deployment) -> Result<Deployment, DeployError> {
        let api = self.deployments().await?;
        let name = &self.settings.deployment;
        bounded(
            self.settings.api_timeout,
            "replace",
            name,
            api.replace(name, &PostParams::default(), d),
        )
        .await
    }

    fn rollout_deadline(&self, d: &Deployment) -> Duration {
        self.settings.rollout_timeout.unwrap_or_else(|| {
            let progress = d
                .spec
                .as_ref()
                .and_then(|s| s.progress_deadline_seconds)
                .unwrap_or(600);
            Duration::from_secs(u64::try_from(progress).unwrap_or(600) + 60)
        })
    }

    /// Waits until the rollout of `generation` is complete, stuck, or out of time.
    pub async fn wait_rollout(&self, timeout: Duration) -> Result<Deployment, DeployError> {
        let deadline = Instant::now() + timeout;
        let name = &self.settings.deployment;
        loop {
            let d = self.must_get().await?;
            match rollout_status(&d) {
                Rollout::Complete => return Ok(d),
                Rollout::Stuck(message) => {
                    return Err(engine(
                        format!("the rollout of `{name}` is stuck (ProgressDeadlineExceeded): {message}"),
                        Some("`kubectl describe deployment` and the new pods' events say why; `runway rollback` puts the recorded revision back".into()),
                    ));
                }
                Rollout::Waiting(why) => {
                    if Instant::now() + self.settings.poll >= deadline {
                        return Err(DeployError::Timeout {
                            what: format!("the rollout of `{name}` ({why})"),
                            after: timeout,
                        });
                    }
                }
            }
            tokio::time::sleep(self.settings.poll).await;
        }
    }

    /// The ReplicaSet of the Deployment that carries `revision`.
    pub async fn replica_set(
        &self,
        d: &Deployment,
        revision: &str,
    ) -> Result<Option<ReplicaSet>, DeployError> {
        let (client, ns) = self.client().await?;
        let api: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
        let selector = d
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.as_ref())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let list = bounded(
            self.settings.api_timeout,
            "list replicasets of",
            &self.settings.deployment,
            api.list(&ListParams::default().labels(&selector)),
        )
        .await?;
        let uid = d.metadata.uid.as_deref();
        Ok(list.items.into_iter().find(|rs| {
            let owned = rs
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "Deployment" && Some(o.uid.as_str()) == uid);
            owned && annotation(&rs.metadata, REVISION) == Some(revision)
        }))
    }

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
                message: "the `kubernetes` target needs `image = \"registry/name:{version}\"`"
                    .into(),
            })?;
        Ok(Vars {
            version: request.version.clone(),
            port: request.port,
            image: None,
            sha: request.sha.clone(),
        }
        .apply(template))
    }

    /// Rollout done: the health URL, when there is one, must answer too.
    async fn finish(
        &self,
        d: &Deployment,
        request: &DeployRequest,
    ) -> Result<Deployed, DeployError> {
        health::wait(&request.health, &mut || None).await?;
        Ok(self.describe(d))
    }
}

fn tag_of(image: &str) -> Option<&str> {
    let last = image.rsplit('/').next()?;
    let last = last.split('@').next()?;
    last.split_once(':').map(|(_, t)| t)
}

fn set_change_cause(d: &mut Deployment, cause: String) {
    d.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(CHANGE_CAUSE.to_owned(), cause);
}

#[async_trait]
impl Target for KubernetesTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Kubernetes
    }

    async fn current(&self) -> Result<Option<Deployed>, DeployError> {
        Ok(self.get().await?.map(|d| self.describe(&d)))
    }

    async fn check_artifact(&self, previous: &Deployed) -> ArtifactCheck {
        let Some(revision) = previous.revision.as_deref() else {
            return ArtifactCheck {
                ok: false,
                what: format!(
                    "no Deployment revision is recorded for {}",
                    previous.version
                ),
                hint: Some(
                    "deploy the previous version once with Runway so its revision is recorded"
                        .into(),
                ),
            };
        };
        let found = match self.must_get().await {
            Ok(d) => self.replica_set(&d, revision).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(Some(_)) => ArtifactCheck {
                ok: true,
                what: format!(
                    "revision {revision} ({}) is kept by the cluster",
                    previous.version
                ),
                hint: None,
            },
            Ok(None) => ArtifactCheck {
                ok: false,
                what: format!(
                    "revision {revision} ({}) is no longer kept by the cluster",
                    previous.version
                ),
                hint: Some(
                    "raise the Deployment's `revisionHistoryLimit`, or deploy the version again"
                        .into(),
                ),
            },
            Err(e) => ArtifactCheck {
                ok: false,
                what: format!("cannot look up revision {revision}: {e}"),
                hint: runway_core::Diagnostic::hint(&e),
            },
        }
    }

    async fn deploy(&self, request: &DeployRequest) -> Result<Deployed, DeployError> {
        let image = self.image_for(request)?;
        let mut d = self.must_get().await?;
        let before = revision_of(&d);
        let i = self.container_index(&d)?;
        let spec = d
            .spec
            .as_mut()
            .ok_or_else(|| engine("the Deployment has no spec", None))?;
        let pod = spec
            .template
            .spec
            .as_mut()
            .ok_or_else(|| engine("the Deployment's pod template has no spec", None))?;
        pod.containers[i].image = Some(image.clone());
        spec.template
            .metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(VERSION_ANNOTATION.to_owned(), request.version.clone());
        set_change_cause(
            &mut d,
            format!(
                "runway deploy {} {} ({image})",
                request.environment, request.version
            ),
        );
        d.status = None;
        let timeout = self.rollout_deadline(&d);
        self.replace(&d).await?;
        let done = self.wait_rollout(timeout).await?;
        let mut deployed = self.finish(&done, request).await?;
        deployed.detail["previous_revision"] = serde_json::json!(before);
        Ok(deployed)
    }

    async fn rollback(
        &self,
        to: &Deployed,
        request: &DeployRequest,
    ) -> Result<Deployed, DeployError> {
        let revision = to
            .revision
            .as_deref()
            .ok_or_else(|| DeployError::NothingToRollBack {
                environment: self.settings.environment.clone(),
                why: format!("no Deployment revision is recorded for {}", to.version),
            })?;
        let mut d = self.must_get().await?;
        let rs = self
            .replica_set(&d, revision)
            .await?
            .ok_or_else(|| DeployError::NothingToRollBack {
                environment: self.settings.environment.clone(),
                why: format!(
                    "revision {revision} of `{}` is no longer kept by the cluster (see its `revisionHistoryLimit`)",
                    self.settings.deployment
                ),
            })?;
        let mut template = rs
            .spec
            .and_then(|s| s.template)
            .ok_or_else(|| engine(format!("revision {revision} has no pod template"), None))?;
        if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            labels.remove(POD_TEMPLATE_HASH);
        }
        let spec = d
            .spec
            .as_mut()
            .ok_or_else(|| engine("the Deployment has no spec", None))?;
        spec.template = template;
        set_change_cause(
            &mut d,
            format!(
                "runway rollback {} to revision {revision} ({})",
                self.settings.environment, to.version
            ),
        );
        d.status = None;
        let timeout = self.rollout_deadline(&d);
        self.replace(&d).await?;
        let done = self.wait_rollout(timeout).await?;
        let mut back = self.finish(&done, request).await?;
        back.detail["restored_revision"] = serde_json::json!(revision);
        Ok(back)
    }

    async fn logs(&self, max_bytes: usize) -> Result<Logs, DeployError> {
        let d = self.must_get().await?;
        let (client, ns) = self.client().await?;
        let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
        let selector = d
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.as_ref())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let t = self.settings.api_timeout;
        let list = bounded(
            t,
            "list pods of",
            &self.settings.deployment,
            pods.list(&ListParams::default().labels(&selector)),
        )
        .await?;
        // The newest pod runs what was deployed last.
        let Some(pod) = list.items.into_iter().max_by(|a, b| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
        }) else {
            return Ok(Logs {
                source: format!("deployment {}", self.settings.deployment),
                version: None,
                text: String::new(),
                truncated: false,
            });
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        let container = self.container_index(&d).ok().and_then(|i| {
            d.spec
                .as_ref()?
                .template
                .spec
                .as_ref()?
                .containers
                .get(i)
                .map(|c| c.name.clone())
        });
        let params = LogParams {
            container: container.clone(),
            // One byte more than asked says whether older output was left out.
            limit_bytes: Some(
                i64::try_from(max_bytes)
                    .unwrap_or(i64::MAX)
                    .saturating_add(1),
            ),
            tail_lines: Some(10_000),
            ..LogParams::default()
        };
        let mut text = bounded(t, "logs of", &name, pods.logs(&name, &params)).await?;
        let truncated = text.len() > max_bytes;
        if truncated {
            let mut cut = text.len() - max_bytes;
            while !text.is_char_boundary(cut) {
                cut += 1;
            }
            text = text[cut..].to_owned();
        }
        Ok(Logs {
            source: format!(
                "pod {name}{}",
                container
                    .map(|c| format!(" container {c}"))
                    .unwrap_or_default()
            ),
            version: None,
            text,
            truncated,
        })
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::apps::v1::{DeploymentCondition, DeploymentSpec, DeploymentStatus},
        apimachinery::pkg::apis::meta::v1::LabelSelector,
    };

    use super::*;

    fn deployment(generation: i64, status: DeploymentStatus) -> Deployment {
        Deployment {
            metadata: kube::api::ObjectMeta {
                generation: Some(generation),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(3),
                selector: LabelSelector::default(),
                ..Default::default()
            }),
            status: Some(status),
        }
    }

    #[test]
    fn a_rollout_is_complete_only_when_the_controller_caught_up_and_every_replica_is_new_and_available()
     {
        let s = |observed, replicas, updated, available| DeploymentStatus {
            observed_generation: Some(observed),
            replicas: Some(replicas),
            updated_replicas: Some(updated),
            available_replicas: Some(available),
            ..Default::default()
        };
        assert!(
            matches!(rollout_status(&deployment(2, s(1, 3, 3, 3))), Rollout::Waiting(w) if w.contains("generation 2"))
        );
        assert!(
            matches!(rollout_status(&deployment(2, s(2, 3, 1, 3))), Rollout::Waiting(w) if w.contains("1 of 3"))
        );
        assert!(
            matches!(rollout_status(&deployment(2, s(2, 4, 3, 3))), Rollout::Waiting(w) if w.contains("pending termination"))
        );
        assert!(
            matches!(rollout_status(&deployment(2, s(2, 3, 3, 2))), Rollout::Waiting(w) if w.contains("2 of 3"))
        );
        assert_eq!(
            rollout_status(&deployment(2, s(2, 3, 3, 3))),
            Rollout::Complete
        );
        let mut stuck = s(2, 3, 1, 2);
        stuck.conditions = Some(vec![DeploymentCondition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: Some("ProgressDeadlineExceeded".into()),
            message: Some("ReplicaSet \"mcp-2\" has timed out progressing.".into()),
            ..Default::default()
        }]);
        assert!(
            matches!(rollout_status(&deployment(2, stuck)), Rollout::Stuck(m) if m.contains("timed out"))
        );
    }

    #[test]
    fn the_tag_of_an_image_is_its_version_when_nothing_else_says() {
        assert_eq!(tag_of("127.0.0.1:5000/mcp/server:1.2.3"), Some("1.2.3"));
        assert_eq!(tag_of("mcp:2.0.0@sha256:abc"), Some("2.0.0"));
        assert_eq!(tag_of("127.0.0.1:5000/mcp"), None);
    }
}
