//! The real Docker engine for the docker target's tests: images built
//! `FROM scratch` from the `runway` binary (its `serve-reference` is the MCP
//! server) and the libraries `ldd` names, containers on the host network, and
//! Debian's `docker-registry` on 127.0.0.1 for the tag-and-push case.
//!
//! `scripts/setup.d/30-docker.sh` starts the engine (no bridge, no iptables)
//! and exports `DOCKER_HOST` and `RUNWAY_TEST_DOCKER_REGISTRY`; without them
//! these tests fail and say so.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use bollard::{
    Docker,
    models::{ContainerCreateBody, HostConfig},
    query_parameters::{
        BuildImageOptionsBuilder, CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder,
    },
};
use futures::StreamExt;

pub const TIMEOUT: Duration = Duration::from_secs(120);

/// `DOCKER_HOST`, or a failure that names the setup step.
pub fn docker_host() -> String {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => h,
        _ => panic!(
            "DOCKER_HOST is not set: these tests need the private Docker engine that \
             `scripts/setup.d/30-docker.sh` starts (`./scripts/test` runs it; or run it with \
             RUNWAY_TEST_ENV=/tmp/env.sh and source that file)"
        ),
    }
}

pub async fn engine() -> Docker {
    let host = docker_host();
    Docker::connect_with_host(&host)
        .unwrap_or_else(|e| panic!("cannot use DOCKER_HOST={host}: {e}"))
        .negotiate_version()
        .await
        .unwrap_or_else(|e| {
            panic!("the Docker engine at {host} does not answer ({e}): run `scripts/setup.d/30-docker.sh`")
        })
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A name unique to this test run.
pub fn unique(name: &str) -> String {
    format!("runway-test-{name}-{}", std::process::id())
}

fn runway_bin() -> PathBuf {
    runway_testkit::runway_bin()
}

/// The shared libraries `ldd` says `binary` loads, by absolute path.
fn libraries(binary: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .expect("`ldd` runs (Debian's libc-bin)");
    assert!(out.status.success(), "ldd failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or
            // `/lib64/ld-linux-x86-64.so.2 (0x...)`; the vDSO has no file.
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next(),
                None => l.split_whitespace().next(),
            }?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// A tar of `dir` (its contents at the archive's root), as the build API takes it.
fn tar_of(dir: &Path) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["-cf", "-", "."])
        .output()
        .expect("`tar` runs");
    assert!(
        out.status.success(),
        "tar failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub async fn build(docker: &Docker, context: &Path, tag: &str) {
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let body = bollard::body_full(tar_of(context).into());
    let mut stream = docker.build_image(options, None, Some(body));
    let mut log = String::new();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("building {tag} took over {TIMEOUT:?}:\n{log}"));
        match next {
            None => break,
            Some(Ok(info)) => {
                if let Some(e) = info.error_detail {
                    panic!("building {tag} failed: {e:?}\n{log}");
                }
                if let Some(s) = info.stream {
                    log.push_str(&s);
                }
            }
            Some(Err(e)) => panic!("building {tag} failed: {e}\n{log}"),
        }
    }
}

async fn image_exists(docker: &Docker, tag: &str) -> bool {
    docker.inspect_image(tag).await.is_ok()
}

static BASE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `FROM scratch` with `/runway` and its libraries, entrypoint `serve-reference`;
/// tagged by the binary's size and mtime, so a rebuilt binary gets a new image.
pub async fn base_image(docker: &Docker) -> String {
    let bin = runway_bin();
    let meta = std::fs::metadata(&bin).expect("the runway binary exists");
    let stamp = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tag = format!("runway-test/base:{}-{stamp}", meta.len());
    let _one_at_a_time = BASE.lock().await;
    if image_exists(docker, &tag).await {
        return tag;
    }
    let ctx = tempfile::tempdir().unwrap();
    let root = ctx.path().join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(&bin, root.join("runway")).unwrap();
    for lib in libraries(&bin) {
        let dest = root.join(lib.strip_prefix("/").unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        // `copy` follows symlinks: the file itself lands under the linked name.
        std::fs::copy(&lib, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", lib.display()));
    }
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/runway\", \"serve-reference\"]\n",
    )
    .unwrap();
    build(docker, ctx.path(), &tag).await;
    tag
}

/// An image of the reference server that reports `version` on the wire
/// (`serverInfo.version`, `/health`), with `extra` arguments after it (faults).
/// Tagged `runway-test/reference:<tag>`; returns the tag.
pub async fn version_image(docker: &Docker, tag: &str, version: &str, extra: &[&str]) -> String {
    let base = base_image(docker).await;
    let name = format!("runway-test/reference:{tag}");
    let ctx = tempfile::tempdir().unwrap();
    let mut entry = vec!["/runway", "serve-reference", "--version", version];
    entry.extend_from_slice(extra);
    let entry = serde_json::to_string(&entry).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!(
            "FROM {base}\nLABEL org.opencontainers.image.version=\"{version}\"\nENV RUNWAY_IMAGE_VERSION={version}\nENTRYPOINT {entry}\n"
        ),
    )
    .unwrap();
    build(docker, ctx.path(), &name).await;
    name
}

pub async fn image_id(docker: &Docker, reference: &str) -> String {
    docker
        .inspect_image(reference)
        .await
        .unwrap_or_else(|e| panic!("inspect {reference}: {e}"))
        .id
        .unwrap()
}

/// What an operator's `docker run -d --name NAME --network host -e ... -l ...
/// -v DIR:/data IMAGE --port PORT` makes.
pub async fn operator_container(
    docker: &Docker,
    name: &str,
    image: &str,
    port: u16,
    data_dir: &Path,
) {
    operator_container_with(docker, name, image, port, data_dir, None).await
}

/// [`operator_container`] with `--stop-signal`: a signal the server ignores
/// makes `docker stop` take its whole grace period.
pub async fn operator_container_with(
    docker: &Docker,
    name: &str,
    image: &str,
    port: u16,
    data_dir: &Path,
    stop_signal: Option<&str>,
) {
    let body = ContainerCreateBody {
        stop_signal: stop_signal.map(str::to_owned),
        image: Some(image.to_owned()),
        cmd: Some(vec!["--port".into(), port.to_string()]),
        env: Some(vec!["TEAM=mcp".into(), "RUNWAY_LOG=info".into()]),
        labels: Some(HashMap::from([("team".to_owned(), "mcp".to_owned())])),
        host_config: Some(HostConfig {
            network_mode: Some("host".into()),
            binds: Some(vec![format!("{}:/data:ro", data_dir.display())]),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    docker
        .create_container(Some(options), body)
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"));
    docker.start_container(name, None).await.unwrap();
}

/// The version `/health` reports on `port`, polled until it answers (bounded).
pub async fn wire_version(port: u16) -> String {
    runway_verify::http::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/health");
    let mut last = String::new();
    for _ in 0..50 {
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => {
                let v: serde_json::Value = r.json().await.unwrap();
                return v["version"].as_str().unwrap().to_owned();
            }
            Ok(r) => last = r.status().to_string(),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not answer: {last}")
}

/// Removes the named containers when the test ends, however it ends.
pub struct Cleanup(pub Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let names = std::mem::take(&mut self.0);
        // Drop cannot await: a thread with its own runtime does the removal.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let docker = engine().await;
                for n in names {
                    let options = RemoveContainerOptionsBuilder::default().force(true).build();
                    let _ = docker.remove_container(&n, Some(options)).await;
                }
            });
        })
        .join();
    }
}

/// Debian's `docker-registry` on 127.0.0.1 (a free port), storage in a temp
/// dir; stopped (the process we started, by its handle) on drop.
pub struct Registry {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub fn start() -> Registry {
        let bin = std::env::var("RUNWAY_TEST_DOCKER_REGISTRY").unwrap_or_else(|_| {
            panic!(
                "RUNWAY_TEST_DOCKER_REGISTRY is not set: `scripts/setup.d/30-docker.sh` installs \
                 Debian's `docker-registry` and exports it"
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(&bin)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        // It logs `listening on 127.0.0.1:PORT` once bound; read for it on a
        // thread so the wait is bounded.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let addr = rest.split(['"', ' ']).next().unwrap_or_default().to_owned();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("docker-registry did not say where it listens within 20 s")
            }
        };
        assert!(addr.starts_with("127.0.0.1:"), "registry bound {addr}");
        Registry {
            child,
            addr,
            _dir: dir,
        }
    }

    /// The config digest (the image id) and the manifest digest of `repo:tag`.
    pub async fn manifest(&self, repo: &str, tag: &str) -> (String, String) {
        let url = format!("http://{}/v2/{repo}/manifests/{tag}", self.addr);
        // reqwest is built without a default rustls provider: a test run
        // alone has not installed one yet.
        runway_verify::http::install_crypto_provider();
        let r = reqwest::Client::new()
            .get(&url)
            .header(
                "Accept",
                "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
            )
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {url}: {}", r.status());
        let digest = r
            .headers()
            .get("Docker-Content-Digest")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let m: serde_json::Value = r.json().await.unwrap();
        (m["config"]["digest"].as_str().unwrap().to_owned(), digest)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
