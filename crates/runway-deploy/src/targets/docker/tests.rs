//! Unit tests of what needs no engine.

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
