//! The kubernetes target against an in-process fake of the API server (no
//! Kubernetes API server can be installed here). The fake answers exactly the
//! calls kube-rs makes for this target (get and replace a Deployment, list its
//! ReplicaSets and pods, read a pod's log), keeps `generation`,
//! `resourceVersion` and the revision annotations as the real API server and
//! deployment controller do, and leaves the rollout's status to the test,
//! which drives it step by step.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use runway_deploy::{
    DeployError, DeployRequest, Target,
    kubernetes::{CHANGE_CAUSE, KubernetesSettings, KubernetesTarget, REVISION},
};
use serde_json::{Value, json};
use tokio::sync::Notify;

#[derive(Default)]
struct Cluster {
    deployment: Option<Value>,
    replicasets: Vec<Value>,
    pods: Vec<Value>,
    logs: HashMap<String, String>,
    resource_version: u64,
    puts: Vec<Value>,
    /// Bump the stored `resourceVersion` right after answering the next GET.
    change_after_next_get: bool,
}

#[derive(Clone, Default)]
struct Fake {
    cluster: Arc<Mutex<Cluster>>,
    put: Arc<Notify>,
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        Json(
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}),
        ),
    )
        .into_response()
}

fn without_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(l) = t["metadata"]["labels"].as_object_mut() {
        l.remove("pod-template-hash");
    }
    t
}

fn matches(selector: &str, labels: &Value) -> bool {
    selector
        .split(',')
        .filter(|s| !s.is_empty())
        .all(|kv| match kv.split_once('=') {
            Some((k, v)) => labels[k].as_str() == Some(v),
            None => false,
        })
}

impl Fake {
    async fn start(self) -> String {
        let app = Router::new()
            .route(
                "/apis/apps/v1/namespaces/{ns}/deployments/{name}",
                get(get_deployment).put(put_deployment),
            )
            .route(
                "/apis/apps/v1/namespaces/{ns}/replicasets",
                get(list_replicasets),
            )
            .route("/api/v1/namespaces/{ns}/pods", get(list_pods))
            .route("/api/v1/namespaces/{ns}/pods/{name}/log", get(pod_log))
            .with_state(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    /// A Deployment `mcp` of 3 replicas at revision 1 running `image`, rolled out.
    fn seed(&self, image: &str) {
        let mut c = self.cluster.lock().unwrap();
        c.resource_version = 10;
        c.deployment = Some(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "mcp", "namespace": "prod", "uid": "dep-uid", "generation": 1,
                "resourceVersion": "10", "annotations": {REVISION: "1"}},
            "spec": {"replicas": 3, "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": {"app": "mcp"}},
                "template": {"metadata": {"labels": {"app": "mcp"}},
                    "spec": {"containers": [{"name": "server", "image": image}]}}},
            "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                "availableReplicas": 3, "readyReplicas": 3}
        }));
        let template = c.deployment.as_ref().unwrap()["spec"]["template"].clone();
        c.replicasets.push(replica_set(1, &template));
    }

    fn deployment(&self) -> Value {
        self.cluster.lock().unwrap().deployment.clone().unwrap()
    }

    /// Sets the status the controller would report, for the current generation.
    fn report(&self, observed_current: bool, replicas: i64, updated: i64, available: i64) {
        let mut c = self.cluster.lock().unwrap();
        let d = c.deployment.as_mut().unwrap();
        let generation = d["metadata"]["generation"].as_i64().unwrap();
        let observed = if observed_current {
            generation
        } else {
            generation - 1
        };
        d["status"] = json!({"observedGeneration": observed, "replicas": replicas,
            "updatedReplicas": updated, "availableReplicas": available,
            "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]});
    }

    fn complete(&self) {
        self.report(true, 3, 3, 3);
    }

    fn stall(&self) {
        let mut c = self.cluster.lock().unwrap();
        let d = c.deployment.as_mut().unwrap();
        d["status"] = json!({"observedGeneration": d["metadata"]["generation"], "replicas": 4,
            "updatedReplicas": 1, "availableReplicas": 3,
            "conditions": [{"type": "Progressing", "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": "ReplicaSet \"mcp-3\" has timed out progressing."}]});
    }
}

fn replica_set(revision: u64, template: &Value) -> Value {
    let hash = format!("h{revision}");
    let mut t = template.clone();
    t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": format!("mcp-{hash}"), "namespace": "prod",
            "labels": t["metadata"]["labels"],
            "annotations": {REVISION: revision.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "mcp",
                "uid": "dep-uid", "controller": true}]},
        "spec": {"replicas": 3, "selector": {"matchLabels": t["metadata"]["labels"]}, "template": t}})
}

async fn get_deployment(
    State(f): State<Fake>,
    Path((_ns, name)): Path<(String, String)>,
) -> Response {
    let mut c = f.cluster.lock().unwrap();
    let answer = c.deployment.clone();
    if std::mem::take(&mut c.change_after_next_get) {
        c.resource_version += 1;
        let rv = c.resource_version.to_string();
        c.deployment.as_mut().unwrap()["metadata"]["resourceVersion"] = json!(rv);
    }
    match answer {
        Some(d) if d["metadata"]["name"] == name.as_str() => Json(d).into_response(),
        _ => status(
            404,
            "NotFound",
            &format!("deployments.apps \"{name}\" not found"),
        ),
    }
}

/// The API server's replace, and the deployment controller's part of it:
/// a changed spec bumps `generation`; a new template gets a ReplicaSet (an
/// old identical one is reused) with the next revision.
async fn put_deployment(State(f): State<Fake>, Json(body): Json<Value>) -> Response {
    {
        let mut c = f.cluster.lock().unwrap();
        c.puts.push(body.clone());
        let stored = c.deployment.clone().unwrap();
        if body["metadata"]["resourceVersion"] != stored["metadata"]["resourceVersion"] {
            return status(409, "Conflict", "the object has been modified");
        }
        let mut next = body.clone();
        next["status"] = stored["status"].clone();
        next["metadata"]["uid"] = stored["metadata"]["uid"].clone();
        let mut generation = stored["metadata"]["generation"].as_i64().unwrap();
        if body["spec"] != stored["spec"] {
            generation += 1;
        }
        next["metadata"]["generation"] = json!(generation);
        c.resource_version += 1;
        next["metadata"]["resourceVersion"] = json!(c.resource_version.to_string());
        if body["spec"]["template"] != stored["spec"]["template"] {
            let template = body["spec"]["template"].clone();
            let max = c
                .replicasets
                .iter()
                .filter_map(|rs| {
                    rs["metadata"]["annotations"][REVISION]
                        .as_str()?
                        .parse::<u64>()
                        .ok()
                })
                .max()
                .unwrap_or(0);
            let revision = max + 1;
            match c
                .replicasets
                .iter_mut()
                .find(|rs| without_hash(&rs["spec"]["template"]) == template)
            {
                Some(rs) => rs["metadata"]["annotations"][REVISION] = json!(revision.to_string()),
                None => {
                    let rs = replica_set(revision, &template);
                    c.replicasets.push(rs);
                }
            }
            next["metadata"]["annotations"][REVISION] = json!(revision.to_string());
        }
        c.deployment = Some(next.clone());
        drop(c);
        f.put.notify_one();
        Json(next).into_response()
    }
}

fn list(kind: &str, items: Vec<Value>) -> Response {
    Json(
        json!({"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"},
        "items": items}),
    )
    .into_response()
}

async fn list_replicasets(
    State(f): State<Fake>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let selector = q.get("labelSelector").cloned().unwrap_or_default();
    let c = f.cluster.lock().unwrap();
    let items = c
        .replicasets
        .iter()
        .filter(|rs| matches(&selector, &rs["metadata"]["labels"]))
        .cloned()
        .collect();
    list("ReplicaSetList", items)
}

async fn list_pods(State(f): State<Fake>, Query(q): Query<HashMap<String, String>>) -> Response {
    let selector = q.get("labelSelector").cloned().unwrap_or_default();
    let c = f.cluster.lock().unwrap();
    let items = c
        .pods
        .iter()
        .filter(|p| matches(&selector, &p["metadata"]["labels"]))
        .cloned()
        .collect();
    list("PodList", items)
}

async fn pod_log(
    State(f): State<Fake>,
    Path((_ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let c = f.cluster.lock().unwrap();
    let Some(text) = c.logs.get(&name) else {
        return status(404, "NotFound", "no such pod");
    };
    if q.get("container").map(String::as_str) != Some("server") {
        return status(400, "BadRequest", "container name required");
    }
    // The API server keeps the first `limitBytes`; kubelet reads from `tailLines` back.
    let limit = q
        .get("limitBytes")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let lines: Vec<&str> = text.lines().collect();
    let tail = q
        .get("tailLines")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(lines.len());
    let mut out = lines[lines.len().saturating_sub(tail)..].join("\n");
    out.truncate(limit.min(out.len()));
    out.into_response()
}

async fn target(fake: &Fake) -> KubernetesTarget {
    let url = fake.clone().start().await;
    let config = kube::Config::new(url.parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let mut s = KubernetesSettings::new("prod", "mcp");
    s.namespace = Some("prod".into());
    s.poll = Duration::from_millis(50);
    s.rollout_timeout = Some(Duration::from_secs(20));
    KubernetesTarget::with_client(s, client)
}

fn request(version: &str) -> DeployRequest {
    DeployRequest {
        environment: "prod".into(),
        version: version.into(),
        image: Some(format!("127.0.0.1:5000/mcp:{version}")),
        ..DeployRequest::default()
    }
}

/// Once the target has replaced the Deployment, moves the rollout through
/// the states a real controller reports, and completes it last.
fn drive_to_completion(fake: &Fake) -> tokio::task::JoinHandle<()> {
    let fake = fake.clone();
    tokio::spawn(async move {
        fake.put.notified().await;
        let step = Duration::from_millis(150);
        tokio::time::sleep(step).await;
        fake.report(false, 3, 0, 3); // the controller has not seen the change
        tokio::time::sleep(step).await;
        fake.report(true, 4, 1, 3); // one new replica
        tokio::time::sleep(step).await;
        fake.report(true, 4, 3, 3); // an old one still terminating
        tokio::time::sleep(step).await;
        fake.report(true, 3, 3, 2); // a new one not yet available
        tokio::time::sleep(step).await;
        fake.complete();
    })
}

fn is_complete(fake: &Fake) -> bool {
    let d = fake.deployment();
    d["status"]["observedGeneration"] == d["metadata"]["generation"]
        && d["status"]["availableReplicas"] == 3
        && d["status"]["replicas"] == 3
}

#[tokio::test]
async fn a_deploy_sets_the_image_with_a_change_cause_and_waits_for_the_whole_rollout() {
    let fake = Fake::default();
    fake.seed("127.0.0.1:5000/mcp:1.0.0");
    let t = target(&fake).await;
    let before = t.current().await.unwrap().unwrap();
    assert_eq!(before.revision.as_deref(), Some("1"));
    assert_eq!(before.version, "1.0.0");

    let driver = drive_to_completion(&fake);
    let deployed = t.deploy(&request("2.0.0")).await.unwrap();
    assert!(
        is_complete(&fake),
        "deploy returned before the rollout completed"
    );
    driver.await.unwrap();

    assert_eq!(deployed.version, "2.0.0");
    assert_eq!(deployed.revision.as_deref(), Some("2"));
    assert_eq!(deployed.image.as_deref(), Some("127.0.0.1:5000/mcp:2.0.0"));
    assert_eq!(deployed.detail["previous_revision"], "1");
    let d = fake.deployment();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "127.0.0.1:5000/mcp:2.0.0"
    );
    let cause = d["metadata"]["annotations"][CHANGE_CAUSE].as_str().unwrap();
    assert!(cause.contains("2.0.0") && cause.contains("prod"), "{cause}");
    // The replace carried the resourceVersion it read: no blind overwrite.
    let puts = fake.cluster.lock().unwrap().puts.clone();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0]["metadata"]["resourceVersion"], "10");
}

#[tokio::test]
async fn a_stuck_rollout_is_detected_and_undone_to_the_captured_revision_not_the_previous_one() {
    let fake = Fake::default();
    fake.seed("127.0.0.1:5000/mcp:1.0.0");
    let t = target(&fake).await;
    // 1.0.0 (revision 1) is the verified one; 2.0.0 rolls out, then 3.0.0 gets stuck.
    let verified = t.current().await.unwrap().unwrap();
    let driver = drive_to_completion(&fake);
    t.deploy(&request("2.0.0")).await.unwrap();
    driver.await.unwrap();

    let stuck = {
        let fake = fake.clone();
        tokio::spawn(async move {
            fake.put.notified().await;
            tokio::time::sleep(Duration::from_millis(150)).await;
            fake.stall();
        })
    };
    let started = std::time::Instant::now();
    let err = t.deploy(&request("3.0.0")).await.unwrap_err();
    stuck.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the stuck rollout was waited out instead of detected"
    );
    match &err {
        DeployError::Engine { message, .. } => {
            assert!(message.contains("ProgressDeadlineExceeded"), "{message}");
            assert!(message.contains("timed out progressing"), "{message}");
        }
        other => panic!("expected a stuck rollout, got {other:?}"),
    }
    assert_eq!(fake.deployment()["metadata"]["annotations"][REVISION], "3");

    assert!(t.check_artifact(&verified).await.ok);
    let driver = drive_to_completion(&fake);
    let back = t.rollback(&verified, &request("3.0.0")).await.unwrap();
    assert!(is_complete(&fake));
    driver.await.unwrap();
    // Revision 1's template is back (not revision 2's, the "previous" one),
    // and the controller gave it the next revision, as it does.
    let d = fake.deployment();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "127.0.0.1:5000/mcp:1.0.0"
    );
    assert!(d["spec"]["template"]["metadata"]["labels"]["pod-template-hash"].is_null());
    assert_eq!(back.revision.as_deref(), Some("4"));
    assert_eq!(back.detail["restored_revision"], "1");
    assert_eq!(back.version, "1.0.0");
    let cause = d["metadata"]["annotations"][CHANGE_CAUSE].as_str().unwrap();
    assert!(cause.contains("revision 1"), "{cause}");
}

#[tokio::test]
async fn a_revision_the_cluster_no_longer_keeps_is_refused_before_anything_changes() {
    let fake = Fake::default();
    fake.seed("127.0.0.1:5000/mcp:1.0.0");
    let t = target(&fake).await;
    let mut gone = t.current().await.unwrap().unwrap();
    gone.revision = Some("7".into());
    let check = t.check_artifact(&gone).await;
    assert!(
        !check.ok && check.what.contains("no longer kept"),
        "{check:?}"
    );
    let err = t.rollback(&gone, &request("1.0.0")).await.unwrap_err();
    assert!(
        matches!(err, DeployError::NothingToRollBack { .. }),
        "{err:?}"
    );
    assert!(fake.cluster.lock().unwrap().puts.is_empty());
}

#[tokio::test]
async fn a_concurrent_change_fails_the_replace_instead_of_overwriting_it() {
    let fake = Fake::default();
    fake.seed("127.0.0.1:5000/mcp:1.0.0");
    // Someone else's change lands right after the target reads the Deployment.
    fake.cluster.lock().unwrap().change_after_next_get = true;
    let t = target(&fake).await;
    let err = t.deploy(&request("2.0.0")).await.unwrap_err();
    match &err {
        DeployError::Engine { message, hint, .. } => {
            assert!(message.contains("modified"), "{message}");
            assert!(
                hint.as_deref()
                    .unwrap_or("")
                    .contains("changed the Deployment"),
                "{hint:?}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let d = fake.deployment();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "127.0.0.1:5000/mcp:1.0.0"
    );
    assert_eq!(d["metadata"]["generation"], 1);
}

#[tokio::test]
async fn logs_come_from_the_newest_pod_and_are_bounded() {
    let fake = Fake::default();
    fake.seed("127.0.0.1:5000/mcp:1.0.0");
    {
        let mut c = fake.cluster.lock().unwrap();
        for (name, created) in [
            ("mcp-old", "2026-12-01T09:00:00Z"),
            ("mcp-new", "2026-12-01T10:00:00Z"),
        ] {
            c.pods.push(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "prod", "labels": {"app": "mcp"},
                    "creationTimestamp": created}}));
        }
        c.logs.insert("mcp-old".into(), "old pod\n".into());
        let long: String = (0..200).map(|i| format!("line {i}\n")).collect();
        c.logs.insert("mcp-new".into(), long);
    }
    let t = target(&fake).await;
    let logs = t.logs(64).await.unwrap();
    assert!(
        logs.source.contains("mcp-new") && logs.source.contains("server"),
        "{logs:?}"
    );
    assert!(logs.truncated);
    assert!(logs.text.len() <= 64);
    assert!(logs.text.contains("line"), "{logs:?}");
    assert!(!logs.text.contains("old pod"));
}
