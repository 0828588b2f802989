//! Gates on what a deploy needs around it: disk, a dependency port, the `.env.example` settings.

use super::*;

struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "mounting a tmpfs needs root (CI runs as root): {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes zeros into `filler` until the file system says it is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        // Bounded: the tmpfs is a few MiB.
        for _ in 0..10_000 {
            if f.write_all(&block).is_err() {
                break;
            }
        }
        let _ = f.flush();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_under_the_ledger_says_so_and_where_and_the_record_stays_readable() {
    use std::io::{BufRead, BufReader};
    let disk = Tmpfs::mount("4m");
    let db = disk.path().join("ledger.db");
    let url = format!("sqlite://{}", db.display());
    let p = Project::new("staging", "", "");
    let toml = p.path().join("runway.toml");
    let config = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("bake = \"1s\"", "bake = \"4s\"");
    std::fs::write(&toml, config).unwrap();
    let o = p.run(&["ledger", "init", &url]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let mut ship = p
        .cmd(&["ship", "staging", "--version", "1.0.0", "--ledger", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr_pipe = ship.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Fill the disk once the watch has begun: the deployment and its verify
    // are written, the analysis is not.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut filler = None;
    while filler.is_none() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("watching staging") => filler = Some(disk.fill()),
            Ok(_) => {}
            Err(e) => panic!("the watch never began: {e}"),
        }
    }
    let filler = filler.unwrap();
    let status = loop {
        if let Some(s) = ship.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "ship did not end");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let err = reader.join().unwrap();
    assert_ne!(status.code(), Some(0), "{err}");
    assert!(
        err.contains("disk full")
            && err.contains(&format!(
                "the disk holding `{}` has no space left",
                disk.path().display()
            )),
        "{err}"
    );
    assert!(
        !err.contains("code: 4874") && !err.contains("(code: 13)"),
        "{err}"
    );

    // Space freed: the record reads back whole, and nothing holds the environment.
    std::fs::remove_file(filler).unwrap();
    let l = runway_ledger::open(&LedgerUrl::parse(&url, p.path()).unwrap())
        .await
        .unwrap();
    let f = runway_ledger::Filter {
        kind: Some(Kind::Deployment),
        ..Default::default()
    };
    let ids: Vec<String> = l
        .query(&f, false)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    l.close().await;
    let show = p.run(&["ledger", "show", &ids[0], "--ledger", &url]);
    assert_eq!(show.status.code(), Some(0), "{}", text(&show));
    assert!(
        String::from_utf8_lossy(&show.stdout).contains("1.0.0"),
        "{}",
        text(&show)
    );
    let again = p.run(&["deploy", "staging", "--version", "1.0.1", "--ledger", &url]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[tokio::test]
async fn the_tcp_gate_refuses_a_deploy_whose_dependency_does_not_accept() {
    // A dependency that listens (a database's port, here a real socket) and
    // one that does not (a port nothing holds).
    let db = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = db.local_addr().unwrap().to_string();
    let down = format!("127.0.0.1:{}", free_port());
    let p = Project::new("staging", "", "");
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    let with = |deps: &str| {
        std::fs::write(
            p.path().join("runway.toml"),
            format!("{toml}tcp = [{deps}]\ntcp_timeout = \"2s\"\n"),
        )
        .unwrap();
    };

    with(&format!("\"{up}\""));
    let o = p.run(&["plan", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("tcp") && out.contains(&format!("accepts: {up} in")),
        "{out}"
    );

    with(&format!("\"{up}\", \"{down}\""));
    let o = p.run(&["plan", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("not reachable: {down} (refused)")),
        "{out}"
    );
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("refused"), "{out}");
    p.assert_nothing_started();
    let statuses = deployment_statuses(p.ledger().await.as_ref()).await;
    assert_eq!(statuses, ["refused"], "{statuses:?}");

    // A malformed entry is refused when runway.toml loads, naming the key.
    with("\"db.internal\"");
    let o = p.run(&["plan", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("gates.tcp") && out.contains("host:port"),
        "{out}"
    );
    drop(db);
}

#[tokio::test]
async fn the_disk_gate_refuses_when_the_file_system_is_short_of_space_or_inodes() {
    let p = Project::new("staging", "", "");
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    let with = |entry: &str| {
        std::fs::write(
            p.path().join("runway.toml"),
            format!("{toml}\n[[environments.staging.gates.disk]]\n{entry}\n"),
        )
        .unwrap();
    };
    // The real file system under the project: 1 MiB and 10 inodes are there.
    with("path = \".\"\nmin_free_mb = 1\nmin_free_inodes = 10");
    let o = p.run(&["plan", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("MiB,") && out.contains("inodes free"), "{out}");
    // An exabyte is not.
    with("path = \".\"\nmin_free_mb = 1000000000000");
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("short: . (") && out.contains("needs 1000000000000"),
        "{out}"
    );
    p.assert_nothing_started();
    // A path that does not exist says so.
    with("path = \"no/such/dir\"\nmin_free_mb = 1");
    let o = p.run(&["plan", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("no/such/dir"), "{out}");
}

#[tokio::test]
async fn the_env_example_gate_names_what_the_example_file_declares_and_is_not_set() {
    let p = Project::new("staging", "env = { MCP_TRANSPORT = \"http\" }", "");
    std::fs::write(
        p.path().join(".env.example"),
        "# Hostaway's example\nMCP_TRANSPORT=http\nexport HOSTAWAY_API_KEY=changeme\nHOSTAWAY_ACCOUNT_ID=\n",
    )
    .unwrap();
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    std::fs::write(
        p.path().join("runway.toml"),
        format!("{toml}env_example = \".env.example\"\n"),
    )
    .unwrap();
    let secret = "hostaway-secret-value-31337";
    let o = p
        .cmd(&["deploy", "staging", "--version", "1.0.0"])
        .env("HOSTAWAY_API_KEY", secret)
        .env_remove("HOSTAWAY_ACCOUNT_ID")
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    // Only the one that is set nowhere; names only, never a value.
    assert!(
        out.contains(".env.example names 1 not set: HOSTAWAY_ACCOUNT_ID"),
        "{out}"
    );
    assert!(!out.contains(secret), "{out}");
    p.assert_nothing_started();

    let o = p
        .cmd(&["plan", "staging", "--version", "1.0.0"])
        .env("HOSTAWAY_API_KEY", secret)
        .env("HOSTAWAY_ACCOUNT_ID", "42")
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("all 3 variable(s) of .env.example are set"),
        "{out}"
    );
}

#[tokio::test]
async fn the_postgres_gate_runs_select_one_on_the_real_database_and_never_shows_the_url() {
    let url = std::env::var("RUNWAY_TEST_PG_URL")
        .expect("RUNWAY_TEST_PG_URL: run scripts/setup.d/10-postgres.sh (./scripts/test does)");
    let p = Project::new("staging", "", "");
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    std::fs::write(
        p.path().join("runway.toml"),
        format!("{toml}postgres_url_env = \"APP_DATABASE_URL\"\ntcp_timeout = \"5s\"\n"),
    )
    .unwrap();
    let plan = |db: Option<&str>| {
        let mut c = p.cmd(&["plan", "staging", "--version", "1.0.0"]);
        match db {
            Some(u) => c.env("APP_DATABASE_URL", u),
            None => c.env_remove("APP_DATABASE_URL"),
        };
        c.output().unwrap()
    };
    let o = plan(Some(&url));
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("`SELECT 1` on 127.0.0.1:"), "{out}");
    assert!(!out.contains(&url), "the URL is a secret: {out}");

    // Wrong credentials: refused, and the password given is not shown.
    let password = "not-the-password-8675309";
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let bad = format!("{scheme}://runway_no_such_user:{password}@{host}");
    let o = plan(Some(&bad));
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("`SELECT 1` on 127.0.0.1:") && out.contains("failed"),
        "{out}"
    );
    assert!(!out.contains(password), "{out}");

    let o = plan(None);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("`APP_DATABASE_URL` is not set"), "{out}");
}

/// Serves `body` as JSON to every request on 127.0.0.1 (a thread per
/// connection, for the life of the test); the base URL.
fn serve_json(body: String) -> String {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().map_while(Result::ok) {
            let body = body.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut buf = [0u8; 1024];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_jwks_gate_verifies_a_test_token_against_the_served_key_set_in_plan() {
    use base64::Engine as _;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256",
        "use": "sig", "kid": "ci-key", "x": b64(&point[1..33]), "y": b64(&point[33..])}]});
    let base = serve_json(jwks.to_string());
    let sign = |aud: &str| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some("ci-key".into());
        let claims = serde_json::json!({"iss": "https://auth.example.com", "aud": aud,
            "exp": now + 600, "scope": "mcp:read mcp:tools"});
        jsonwebtoken::encode(
            &h,
            &claims,
            &jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
        )
        .unwrap()
    };
    let p = Project::new("staging", "", "");
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    std::fs::write(
        p.path().join("runway.toml"),
        format!(
            "{toml}\n[environments.staging.gates.jwks]\nurl = \"{base}/.well-known/jwks.json\"\n\
             issuer = \"https://auth.example.com\"\naudience = \"https://mcp.example.com\"\n\
             algorithms = [\"ES256\"]\nrequired_scopes = [\"mcp:read\"]\n\
             test_token_env = \"MCP_TEST_TOKEN\"\n"
        ),
    )
    .unwrap();
    let plan = |token: &str| {
        p.cmd(&["plan", "staging", "--version", "1.0.0"])
            .env("MCP_TEST_TOKEN", token)
            .output()
            .unwrap()
    };
    let good = sign("https://mcp.example.com");
    let o = plan(&good);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("jwks"), "{out}");
    assert!(
        out.contains("test token from `MCP_TEST_TOKEN` verifies with key `ci-key` (ES256)"),
        "{out}"
    );
    assert!(!out.contains(&good), "the token is a secret: {out}");

    let wrong = sign("https://other.example.com");
    let o = plan(&wrong);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("has `aud` `https://other.example.com`, not `https://mcp.example.com`"),
        "{out}"
    );
    assert!(out.contains("gates.jwks.audience"), "{out}");
    assert!(!out.contains(&wrong), "the token is a secret: {out}");
    p.assert_nothing_started();
}
