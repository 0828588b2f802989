//! What a repository says about how it runs: its name, how to start it
//! (console script, `bin`, `npm start`), its container and cluster files, the
//! MCP path and transport its code serves, its health route, its port and
//! the variables its `.env.example` names. Every finding keeps the file it
//! came from, so `runway init` can say why it wrote each line.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// A fact and the file it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From<T> {
    pub value: T,
    pub from: String,
}

fn from<T>(value: T, from: impl Into<String>) -> From<T> {
    From {
        value,
        from: from.into(),
    }
}

/// How the server is started on this machine (the process target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub command: Vec<String>,
    /// True when `command` takes the port (`{port}` in it); else `PORT` is set.
    pub port_in_command: bool,
}

/// A Kubernetes Deployment found in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct K8sDeployment {
    pub name: String,
    pub namespace: Option<String>,
    pub container: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    StreamableHttp,
    Sse,
    Stdio,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::StreamableHttp => "streamable HTTP",
            Transport::Sse => "SSE (HTTP+SSE, the 2024-11-05 transport)",
            Transport::Stdio => "stdio only",
        }
    }
}

/// Everything `runway init` read about the repository.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    pub name: Option<From<String>>,
    pub process: Option<From<Process>>,
    pub dockerfile: Option<From<()>>,
    pub compose: Option<From<Option<String>>>,
    pub kubernetes: Option<From<K8sDeployment>>,
    pub transport: Option<From<Transport>>,
    pub mcp_path: Option<From<String>>,
    pub health_path: Option<From<String>>,
    pub port: Option<From<u16>>,
    pub env_example: Option<From<Vec<EnvVar>>>,
    /// The production example file's variables (`.env.prod.example` first).
    pub env_production: Option<From<Vec<EnvVar>>>,
    /// `https://github.com/owner/repo` → `ghcr.io/owner/repo`.
    pub image_repo: Option<String>,
    /// Where the server is built without a version of its own (`FastMCP("x")`
    /// with no `version=`): it reports its SDK's version as
    /// `serverInfo.version`, so verify cannot expect the release's.
    pub no_own_version: Option<From<()>>,
}

fn read(root: &Path, rel: &str) -> Option<String> {
    let p = root.join(rel);
    let meta = std::fs::metadata(&p).ok()?;
    if !meta.is_file() || meta.len() > 1024 * 1024 {
        return None;
    }
    std::fs::read_to_string(p).ok()
}

fn toml_at<'a>(v: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(v.get(*first)?, |v, k| v.get(k))
}

fn toml_doc(root: &Path, rel: &str) -> Option<toml::Table> {
    read(root, rel).and_then(|t| t.parse::<toml::Table>().ok())
}

/// The project's name: the package's, not the directory's.
pub fn name(root: &Path) -> Option<From<String>> {
    if let Some(doc) = toml_doc(root, "pyproject.toml") {
        for (path, label) in [
            (&["project", "name"][..], "pyproject.toml [project].name"),
            (
                &["tool", "poetry", "name"][..],
                "pyproject.toml [tool.poetry].name",
            ),
        ] {
            if let Some(n) = toml_at(&doc, path).and_then(|n| n.as_str()) {
                return Some(from(n.to_owned(), label));
            }
        }
    }
    if let Some(doc) =
        read(root, "package.json").and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        && let Some(n) = doc.get("name").and_then(|n| n.as_str())
    {
        return Some(from(n.to_owned(), "package.json name"));
    }
    if let Some(doc) = toml_doc(root, "Cargo.toml") {
        if let Some(n) = toml_at(&doc, &["package", "name"]).and_then(|n| n.as_str()) {
            return Some(from(n.to_owned(), "Cargo.toml [package].name"));
        }
        // A virtual workspace: its first default member (else member) crate.
        let members = toml_at(&doc, &["workspace", "default-members"])
            .or_else(|| toml_at(&doc, &["workspace", "members"]))
            .and_then(|m| m.as_array())
            .cloned()
            .unwrap_or_default();
        for m in members.iter().filter_map(|m| m.as_str()) {
            if m.contains('*') {
                continue;
            }
            let rel = format!("{}/Cargo.toml", m.trim_end_matches('/'));
            if let Some(n) = toml_doc(root, &rel).and_then(|d| {
                toml_at(&d, &["package", "name"])
                    .and_then(|n| n.as_str())
                    .map(str::to_owned)
            }) {
                return Some(from(n, format!("{rel} [package].name")));
            }
        }
    }
    if let Some(t) = read(root, "go.mod")
        && let Some(m) = t.lines().find_map(|l| l.strip_prefix("module "))
    {
        let n = m.trim().rsplit('/').next().unwrap_or(m).to_owned();
        return Some(from(n, "go.mod module"));
    }
    None
}

/// How to start the server locally, with its port when the command takes one.
fn process(root: &Path, compose_args: Option<&[String]>) -> Option<From<Process>> {
    let uv = root.join("uv.lock").is_file();
    if let Some(doc) = toml_doc(root, "pyproject.toml") {
        let scripts = toml_at(&doc, &["project", "scripts"])
            .or_else(|| toml_at(&doc, &["tool", "poetry", "scripts"]))
            .and_then(|s| s.as_table());
        if let Some(scripts) = scripts {
            let project = toml_at(&doc, &["project", "name"]).and_then(|n| n.as_str());
            let pick = scripts
                .keys()
                .find(|k| Some(k.as_str()) == project)
                .or_else(|| {
                    scripts
                        .keys()
                        .find(|k| k.as_str() == "start" || k.as_str() == "serve")
                })
                .or_else(|| {
                    scripts
                        .keys()
                        .find(|k| !["dev", "test", "playground", "lint"].contains(&k.as_str()))
                });
            if let Some(script) = pick {
                let mut command: Vec<String> = if uv {
                    vec!["uv".into(), "run".into(), script.clone()]
                } else {
                    vec![script.clone()]
                };
                let mut port_in_command = extend_with(&mut command, compose_args);
                // Smithery's launchers (`smithery.cli.start:main`) take the
                // port as `--port` (default 8081) and ignore `PORT`.
                let entry = scripts.get(script).and_then(|e| e.as_str()).unwrap_or("");
                if !port_in_command && entry.starts_with("smithery.cli.") {
                    command.extend(["--port".to_owned(), "{port}".to_owned()]);
                    port_in_command = true;
                }
                return Some(from(
                    Process {
                        command,
                        port_in_command,
                    },
                    format!("pyproject.toml console script `{script}`"),
                ));
            }
        }
    }
    if let Some(doc) =
        read(root, "package.json").and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    {
        let bin = match doc.get("bin") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Object(m)) => {
                m.values().find_map(|v| v.as_str()).map(str::to_owned)
            }
            _ => None,
        };
        let start = doc.pointer("/scripts/start").and_then(|s| s.as_str());
        let (mut command, label) = match (start, bin) {
            (Some(_), _) => (
                vec!["npm".to_owned(), "start".to_owned(), "--silent".to_owned()],
                "package.json scripts.start".to_owned(),
            ),
            (None, Some(b)) => (
                vec!["node".to_owned(), b.clone()],
                format!("package.json bin `{b}`"),
            ),
            (None, None) => return None,
        };
        let port_in_command = if command[0] == "node" {
            extend_with(&mut command, compose_args)
        } else {
            false
        };
        return Some(from(
            Process {
                command,
                port_in_command,
            },
            label,
        ));
    }
    if let Some(n) =
        name(root).filter(|n| n.from.starts_with("Cargo.toml") || n.from.contains("/Cargo.toml"))
    {
        let mut command = vec![
            "cargo".to_owned(),
            "run".to_owned(),
            "--release".to_owned(),
            "--quiet".to_owned(),
            "--".to_owned(),
        ];
        let port_in_command = extend_with(&mut command, compose_args);
        if n.from.starts_with("Cargo.toml [package]") {
            return Some(from(
                Process {
                    command,
                    port_in_command,
                },
                "Cargo.toml [package]",
            ));
        }
    }
    None
}

/// Appends the arguments the compose file starts the server with, the port
/// as `{port}` and the bind address as 127.0.0.1; true when a port was among them.
fn extend_with(command: &mut Vec<String>, args: Option<&[String]>) -> bool {
    let Some(args) = args else { return false };
    let mut port = false;
    let mut prev: Option<&str> = None;
    for a in args {
        let v = match prev {
            Some("--port" | "-p") if a.parse::<u16>().is_ok() => {
                port = true;
                "{port}".to_owned()
            }
            Some("--host" | "--bind") if a == "0.0.0.0" || a == "::" => "127.0.0.1".to_owned(),
            _ => match a.split_once('=') {
                Some(("--port", p)) if p.parse::<u16>().is_ok() => {
                    port = true;
                    "--port={port}".to_owned()
                }
                Some(("--host", "0.0.0.0")) => "--host=127.0.0.1".to_owned(),
                _ => a.clone(),
            },
        };
        command.push(v);
        prev = Some(a.as_str());
    }
    port
}

const COMPOSE_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// A compose file and what it says about the service built from this repository.
struct Compose {
    file: String,
    service: Option<String>,
    /// Its `command:` arguments.
    command: Option<Vec<String>>,
    /// Its first published port.
    port: Option<u16>,
}

/// The compose file, the service that builds this repository, its
/// `command:` arguments and its published port.
fn compose(root: &Path) -> Option<Compose> {
    let file = COMPOSE_FILES.iter().find(|f| root.join(f).is_file())?;
    let text = read(root, file)?;
    let mut service: Option<String> = None;
    let mut current: Option<String> = None;
    let mut in_services = false;
    let mut command = None;
    let mut port = None;
    let mut builds_here = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if indent == 0 {
            if builds_here {
                break;
            }
            in_services = t == "services:";
            continue;
        }
        if !in_services {
            continue;
        }
        if indent == 2 && t.ends_with(':') {
            if builds_here {
                break;
            }
            current = Some(t.trim_end_matches(':').to_owned());
            command = None;
            port = None;
            continue;
        }
        if t == "build: ." || t == "context: ." || t == "build: ./" || t == "context: ./" {
            builds_here = true;
            service = current.clone();
        }
        if let Some(c) = t.strip_prefix("command:") {
            let c = c.trim();
            command = if c.starts_with('[') {
                serde_json::from_str::<Vec<String>>(c).ok()
            } else if !c.is_empty() {
                Some(
                    c.split_whitespace()
                        .map(|s| s.trim_matches('"').to_owned())
                        .collect(),
                )
            } else {
                None
            };
        }
        if port.is_none()
            && let Some(p) = PORT_MAP.captures(t)
        {
            port = p[1].parse().ok();
        }
    }
    if !builds_here {
        return Some(Compose {
            file: (*file).to_owned(),
            service: None,
            command: None,
            port: None,
        });
    }
    Some(Compose {
        file: (*file).to_owned(),
        service,
        command,
        port,
    })
}

static PORT_MAP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^-\s*["']?(?:[\d.]+:)?(\d{2,5}):\d{2,5}(?:/tcp)?["']?$"#).expect("static regex")
});

static EXPOSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?mi)^\s*EXPOSE\s+(\d{2,5})").expect("static regex"));

const K8S_DIRS: &[&str] = &[
    "k8s",
    "kubernetes",
    "deploy",
    "deployment",
    "deployments",
    "manifests",
    ".k8s",
    "infra",
    "kustomize",
];

/// The first Deployment in the usual manifest directories.
fn kubernetes(root: &Path) -> Option<From<K8sDeployment>> {
    let mut files = Vec::new();
    for d in K8S_DIRS {
        collect_yaml(&root.join(d), 0, &mut files);
    }
    files.sort();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        if text.contains("{{") {
            continue; // a Helm template, not a manifest
        }
        for doc in text.split("\n---") {
            if let Some(d) = deployment(doc) {
                let rel = f.strip_prefix(root).unwrap_or(&f).display().to_string();
                return Some(from(d, rel));
            }
        }
    }
    None
}

fn collect_yaml(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 3 || out.len() > 200 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten().take(500) {
        let p = e.path();
        if p.is_dir() {
            collect_yaml(&p, depth + 1, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml")
            && e.metadata().is_ok_and(|m| m.len() < 512 * 1024)
        {
            out.push(p);
        }
    }
}

/// `kind: Deployment` with its `metadata.name`, namespace and first container.
fn deployment(doc: &str) -> Option<K8sDeployment> {
    if !doc.lines().any(|l| l.trim_end() == "kind: Deployment") {
        return None;
    }
    let mut name = None;
    let mut namespace = None;
    let mut container = None;
    let mut in_meta = false;
    let mut in_containers = false;
    for line in doc.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if indent == 0 {
            in_meta = t == "metadata:";
        }
        if in_meta && indent == 2 {
            if let Some(n) = t.strip_prefix("name:") {
                name.get_or_insert_with(|| n.trim().trim_matches('"').to_owned());
            }
            if let Some(n) = t.strip_prefix("namespace:") {
                namespace.get_or_insert_with(|| n.trim().trim_matches('"').to_owned());
            }
        }
        if t == "containers:" {
            in_containers = true;
            continue;
        }
        if in_containers
            && container.is_none()
            && let Some(n) = t.strip_prefix("- name:")
        {
            container = Some(n.trim().trim_matches('"').to_owned());
        }
    }
    Some(K8sDeployment {
        name: name?,
        namespace,
        container,
    })
}

const SOURCE_DIRS: &[&str] = &["src", "app", "server", "lib", "cmd", "internal", "pkg", "."];
const SOURCE_EXT: &[&str] = &["py", "ts", "js", "mjs", "go", "rs"];

/// The project's source files (bounded), for the transport and routes.
/// A Python server built with `FastMCP(...)` and no `version=` in any of
/// its constructions reports the SDK's version (`mcp` 1.19.0) as its own.
fn no_own_version(files: &[(String, String)]) -> Option<From<()>> {
    let mut first = None;
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".py")) {
        let mut from_idx = 0;
        while let Some(i) = text[from_idx..].find("FastMCP(") {
            let start = from_idx + i;
            from_idx = start + "FastMCP(".len();
            // Not a class or an import: the call, up to its closing parenthesis.
            let before = text[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let mut depth = 0usize;
            let mut end = text.len();
            for (j, c) in text[start + "FastMCP".len()..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = start + "FastMCP".len() + j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let call = &text[start..end];
            if call.contains("version") {
                return None;
            }
            if first.is_none() {
                let line = text[..start].lines().count().max(1);
                first = Some(from((), format!("{path}:{line}")));
            }
        }
    }
    first
}

fn sources(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for d in SOURCE_DIRS {
        let mut stack = vec![(root.join(d), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten().take(2000) {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    let skip = name.starts_with('.')
                        || [
                            "node_modules",
                            "target",
                            "dist",
                            "build",
                            "tests",
                            "test",
                            "docs",
                            "examples",
                            "venv",
                        ]
                        .contains(&name.as_str());
                    if *d != "." && depth < 6 && !skip {
                        stack.push((p, depth + 1));
                    }
                } else if p
                    .extension()
                    .is_some_and(|x| SOURCE_EXT.contains(&x.to_string_lossy().as_ref()))
                    && !(name.contains(".test.")
                        || name.contains(".spec.")
                        || name.starts_with("test_")
                        || name.ends_with("_test.go")
                        || name.ends_with("_test.py"))
                    && seen.insert(p.clone())
                    && let Ok(meta) = e.metadata()
                    && meta.len() < 512 * 1024
                    && let Ok(text) = std::fs::read_to_string(&p)
                {
                    let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
                    out.push((rel, text));
                }
                if out.len() >= 3000 {
                    return out;
                }
            }
        }
    }
    out.sort();
    out
}

static HTTP_MARKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"StreamableHTTPServerTransport|streamable_http_app|streamable[-_]http|transport\s*=\s*["']http["']|StreamableHttpService|NewStreamableHTTPServer"#)
        .expect("static regex")
});
static SSE_MARKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"SSEServerTransport|sse_app\(|transport\s*=\s*["']sse["']|NewSSEServer"#)
        .expect("static regex")
});
static STDIO_MARKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"StdioServerTransport|stdio_server|transport\s*=\s*["']stdio["']|ServeStdio|mcp\.run\(\s*\)"#)
        .expect("static regex")
});
static MCP_ROUTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"["'](/mcp/?|/sse)["']"#).expect("static regex"));
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:get|route|Route|add_route|add_api_route|api_route|HandleFunc|Handle|custom_route|GET)\s*\(\s*["'](/(?:health|healthz|livez|live|readyz|ready|ping|status)(?:/[a-z]+)?)["']"#)
        .expect("static regex")
});

/// The health route: `/health` or `/healthz` when served, else a liveness
/// route (`/health/live`, `/livez`), else the first health-like route.
fn health_route(files: &[(String, String)]) -> Option<From<String>> {
    let mut routes: Vec<(String, String)> = Vec::new();
    for (rel, t) in files {
        for c in HEALTH_ROUTE.captures_iter(t) {
            routes.push((c[1].to_owned(), rel.clone()));
        }
    }
    let pick = routes
        .iter()
        .find(|(r, _)| r == "/health" || r == "/healthz")
        .or_else(|| routes.iter().find(|(r, _)| r.contains("live")))
        .or_else(|| routes.iter().find(|(r, _)| r.starts_with("/health")))
        .or_else(|| routes.first())?;
    Some(from(pick.0.clone(), pick.1.clone()))
}
static PORT_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\bport\b["']?\s*(?:[:=]|\|\||,\s*default\s*=)\s*["']?(\d{4,5})\b"#)
        .expect("static regex")
});

fn first_match<'a>(files: &'a [(String, String)], re: &Regex) -> Option<(&'a str, String)> {
    files.iter().find_map(|(rel, t)| {
        re.captures(t).map(|c| {
            (
                rel.as_str(),
                c.get(1).map_or(c[0].to_owned(), |m| m.as_str().to_owned()),
            )
        })
    })
}

/// A variable of an example environment file and its example value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

impl EnvVar {
    /// True for what a deploy cannot do without: a secret, or a value the
    /// example leaves empty or as a placeholder (`change-me`, `your-key`).
    pub fn required(&self) -> bool {
        let n = self.name.as_str();
        let v = self
            .value
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_ascii_lowercase();
        let secret = [
            "TOKEN",
            "SECRET",
            "PASSWORD",
            "PASSWD",
            "API_KEY",
            "CLIENT_ID",
            "CREDENTIAL",
        ]
        .iter()
        .any(|s| n.contains(s))
            || n.ends_with("_KEY");
        let placeholder = v.is_empty()
            || v.contains("change")
            || v.starts_with("your")
            || v.starts_with('<')
            || v.contains("xxx")
            || v.contains("replace");
        let flag = matches!(v.as_str(), "true" | "false" | "yes" | "no" | "on" | "off")
            || v.parse::<f64>().is_ok();
        (secret && !flag) || placeholder
    }
}

const ENV_FILES: &[&str] = &[
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.prod.example",
    ".env.production.example",
    "env.example",
];

fn read_env_file(root: &Path, f: &str) -> Option<Vec<EnvVar>> {
    let text = read(root, f)?;
    let vars: Vec<EnvVar> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("export ").unwrap_or(l.trim());
            let (k, v) = l.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !k.starts_with(|c: char| c.is_ascii_digit()))
            .then(|| EnvVar {
                name: k.to_owned(),
                value: v.split(" #").next().unwrap_or(v).trim().to_owned(),
            })
        })
        .collect();
    (!vars.is_empty()).then_some(vars)
}

/// The variables of `.env.example` (and its spellings), commented ones left
/// out; `production` prefers `.env.prod.example`.
fn env_example(root: &Path, production: bool) -> Option<From<Vec<EnvVar>>> {
    let order: Vec<&str> = if production {
        let mut o: Vec<&str> = ENV_FILES
            .iter()
            .copied()
            .filter(|f| f.contains("prod"))
            .collect();
        o.extend(ENV_FILES.iter().copied().filter(|f| !f.contains("prod")));
        o
    } else {
        ENV_FILES.to_vec()
    };
    order
        .into_iter()
        .find_map(|f| read_env_file(root, f).map(|v| from(v, f)))
}

/// `git remote get-url origin` on GitHub, as a GHCR image repository.
fn image_repo(root: &Path) -> Option<String> {
    let url = runway_release::git::remote_url(root)?;
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("git@github.com:"))
        .or_else(|| url.strip_prefix("ssh://git@github.com/"))?;
    let rest = rest.trim_end_matches('/').trim_end_matches(".git");
    let (owner, repo) = rest.split_once('/')?;
    Some(format!(
        "ghcr.io/{}/{}",
        owner.to_ascii_lowercase(),
        repo.to_ascii_lowercase()
    ))
}

/// Reads the repository at `root`.
pub fn inspect(root: &Path) -> Inspection {
    let mut i = Inspection {
        name: name(root),
        ..Inspection::default()
    };
    let compose = compose(root);
    let compose_args = compose.as_ref().and_then(|c| c.command.clone());
    if let Some(c) = &compose {
        i.compose = Some(from(c.service.clone(), c.file.clone()));
        if let Some(p) = c.port {
            i.port = Some(from(p, c.file.clone()));
        }
    }
    i.process = process(root, compose_args.as_deref());
    if let Some(text) = read(root, "Dockerfile") {
        i.dockerfile = Some(from((), "Dockerfile"));
        if i.port.is_none()
            && let Some(c) = EXPOSE.captures(&text)
            && let Ok(p) = c[1].parse()
        {
            i.port = Some(from(p, "Dockerfile EXPOSE"));
        }
    }
    i.kubernetes = kubernetes(root);
    let files = sources(root);
    let http = first_match(&files, &HTTP_MARKS);
    let sse = first_match(&files, &SSE_MARKS);
    let stdio = first_match(&files, &STDIO_MARKS);
    i.transport = match (http, sse, stdio) {
        (Some((f, _)), _, _) => Some(from(Transport::StreamableHttp, f)),
        (None, Some((f, _)), _) => Some(from(Transport::Sse, f)),
        (None, None, Some((f, _))) => Some(from(Transport::Stdio, f)),
        _ => None,
    };
    i.mcp_path = first_match(&files, &MCP_ROUTE).map(|(f, p)| from(p, f));
    if i.mcp_path.is_none()
        && i.transport
            .as_ref()
            .is_some_and(|t| t.value == Transport::Sse)
    {
        i.mcp_path = Some(from("/sse".to_owned(), "the SSE transport's default"));
    }
    i.health_path = health_route(&files);
    i.no_own_version = no_own_version(&files);
    if i.port.is_none()
        && let Some((f, p)) = first_match(&files, &PORT_DEFAULT)
        && let Ok(p) = p.parse()
    {
        i.port = Some(from(p, f));
    }
    i.env_example = env_example(root, false);
    i.env_production = env_example(root, true);
    // A transport chosen by a variable (`MCP_TRANSPORT=http`).
    if i.transport
        .as_ref()
        .is_none_or(|t| t.value == Transport::Stdio)
        && let Some(e) = i.env_production.as_ref().or(i.env_example.as_ref())
        && let Some(v) = e.value.iter().find(|v| v.name.ends_with("TRANSPORT"))
    {
        let t = match v.value.to_ascii_lowercase().as_str() {
            "http" | "streamable-http" | "streamable_http" | "streamablehttp" => {
                Some(Transport::StreamableHttp)
            }
            "sse" => Some(Transport::Sse),
            _ => None,
        };
        if let Some(t) = t {
            i.transport = Some(from(t, format!("{}={}", v.name, v.value)));
        }
    }
    if i.mcp_path.is_none()
        && let Some(e) = i.env_production.as_ref().or(i.env_example.as_ref())
        && let Some(v) = e.value.iter().find(|v| {
            v.name.ends_with("_PATH") && v.name.contains("MCP") && v.value.starts_with('/')
        })
    {
        i.mcp_path = Some(from(v.value.clone(), format!("{}={}", v.name, v.value)));
    }
    i.image_repo = image_repo(root);
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_arguments_take_the_port_and_a_local_bind() {
        let mut c = vec!["uv".to_owned(), "run".to_owned(), "srv".to_owned()];
        let args: Vec<String> = ["serve", "--http", "--host", "0.0.0.0", "--port", "8080"]
            .map(str::to_owned)
            .to_vec();
        assert!(extend_with(&mut c, Some(&args)));
        assert_eq!(
            c.join(" "),
            "uv run srv serve --http --host 127.0.0.1 --port {port}"
        );
    }

    /// tab-mcp: `start = "smithery.cli.start:main"` listens on `--port`
    /// (default 8081) and ignores `PORT`.
    #[test]
    fn a_smithery_launcher_gets_the_port_as_its_flag() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("pyproject.toml"),
            "[project]\nname = \"tab-mcp\"\nversion = \"0.1.0\"\n\n[project.scripts]\ndev = \"smithery.cli.dev:main\"\nstart = \"smithery.cli.start:main\"\n",
        )
        .unwrap();
        std::fs::write(d.path().join("uv.lock"), "version = 1\n").unwrap();
        let p = process(d.path(), None).unwrap();
        assert_eq!(p.value.command.join(" "), "uv run start --port {port}");
        assert!(p.value.port_in_command);
    }

    #[test]
    fn a_fastmcp_server_without_a_version_is_noticed() {
        let file = |t: &str| vec![("src/srv/server.py".to_owned(), t.to_owned())];
        let none = no_own_version(&file(
            "from mcp.server.fastmcp import FastMCP\n\ndef create():\n    server = FastMCP(\"Tab API\")\n    return server\n",
        ))
        .unwrap();
        assert_eq!(none.from, "src/srv/server.py:4");
        assert!(
            no_own_version(&file(
                "server = FastMCP(\n    \"Tab API\",\n    version=__version__,\n)\n"
            ))
            .is_none()
        );
        assert!(no_own_version(&file("class MyFastMCP(Base): pass\n")).is_none());
    }

    #[test]
    fn a_deployment_is_read_from_its_manifest() {
        let doc = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mcp-api\n  namespace: prod\nspec:\n  template:\n    spec:\n      containers:\n        - name: server\n          image: x\n";
        let d = deployment(doc).unwrap();
        assert_eq!(d.name, "mcp-api");
        assert_eq!(d.namespace.as_deref(), Some("prod"));
        assert_eq!(d.container.as_deref(), Some("server"));
        assert!(deployment("kind: Service\nmetadata:\n  name: x\n").is_none());
    }
}
