//! The `runway.toml` text `runway init` writes: every line it could derive,
//! with the file it came from in a comment; every value only the user knows
//! marked `FILL IN`; the seeds' operational defaults as live, commented keys.

use runway_release::files::{self, scan::Scan};

use super::inspect::{Inspection, Transport};
use super::migrate::Migration;

/// The marker on every line the user must edit.
pub const FILL_IN: &str = "FILL IN";

/// How release tags are spelt, and why.
#[derive(Debug, Clone, Default)]
pub struct TagChoice {
    pub prefix: String,
    pub why: String,
    /// Other schemes seen (released together with this one, or ignored).
    pub others: Vec<String>,
    /// Component-prefixed packages released on their own: (name, path, prefix).
    pub packages: Vec<(String, String, String)>,
    /// The highest version tagged with `prefix`.
    pub highest: Option<semver::Version>,
}

/// Everything the file is made of.
pub struct Input<'a> {
    pub name: &'a str,
    pub name_from: &'a str,
    pub det: &'a files::Detection,
    pub scan: &'a Scan,
    pub tags: &'a TagChoice,
    pub migration: &'a Migration,
    pub inspection: &'a Inspection,
    /// True when the changelog file exists.
    pub has_changelog: bool,
}

pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| quote(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The deploy target chosen for one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Process,
    Compose,
    Docker,
    Kubernetes,
}

/// Staging: the target that runs on this machine first. Production: the
/// one closest to a real fleet.
pub fn targets(i: &Inspection) -> (Option<Target>, Option<Target>) {
    let have = |t: Target| match t {
        Target::Process => i.process.is_some(),
        Target::Compose => i.compose.is_some(),
        Target::Docker => i.dockerfile.is_some(),
        Target::Kubernetes => i.kubernetes.is_some(),
    };
    let staging = [
        Target::Process,
        Target::Compose,
        Target::Docker,
        Target::Kubernetes,
    ]
    .into_iter()
    .find(|t| have(*t));
    let production = [
        Target::Kubernetes,
        Target::Docker,
        Target::Compose,
        Target::Process,
    ]
    .into_iter()
    .find(|t| have(*t));
    (staging, production)
}

/// The port a staging process listens on: the project's own, else 8000.
pub fn port(i: &Inspection) -> u16 {
    i.port.as_ref().map_or(8000, |p| p.value)
}

pub fn mcp_path(i: &Inspection) -> String {
    i.mcp_path.as_ref().map_or("/mcp".to_owned(), |p| {
        p.value.trim_end_matches('/').to_owned()
    })
}

fn files_section(out: &mut String, input: &Input) {
    let det = input.det;
    for d in &det.dynamic {
        out.push_str(&format!(
            "# `{}` declares a dynamic version: it lives in {}\n",
            d.declared_in.display(),
            d.lives_in.replace('\n', " ")
        ));
    }
    let mut entries: Vec<String> = Vec::new();
    for f in &det.files {
        let path = f.path.to_string_lossy().replace('\\', "/");
        let line = f.locations.first().map_or(0, |l| l.line);
        let entry = match &f.kind {
            files::Kind::Regex { pattern } => {
                format!("{{ path = {}, regex = {} }}", quote(&path), quote(pattern))
            }
            files::Kind::Json { fields } => {
                format!("{{ path = {}, fields = {} }}", quote(&path), list(fields))
            }
            _ => format!("{{ path = {} }}", quote(&path)),
        };
        entries.push(format!("  {entry},  # line {line}: {}\n", f.version()));
    }
    for e in &input.migration.extra_files {
        if det.files.iter().any(|f| f.path.to_string_lossy() == e.path) && e.fields.is_empty() {
            continue;
        }
        let entry = match (&e.regex, e.fields.is_empty()) {
            (Some(r), _) => format!("{{ path = {}, regex = {} }}", quote(&e.path), quote(r)),
            (None, false) => format!(
                "{{ path = {}, fields = {} }}",
                quote(&e.path),
                list(&e.fields)
            ),
            (None, true) => format!("{{ path = {} }}", quote(&e.path)),
        };
        // A detected file listed again by release-please: keep one entry.
        entries.retain(|x| {
            !x.contains(&format!("path = {},", quote(&e.path)))
                && !x.contains(&format!("path = {} }}", quote(&e.path)))
        });
        entries.push(format!("  {entry},  # release-please extra-files\n"));
    }
    for f in &input.scan.found {
        let path = f.path.to_string_lossy().replace('\\', "/");
        let behind = if f.disagrees(input.scan.version.as_deref()) {
            format!(
                " ({FILL_IN}: says {}, not {}; make it agree)",
                f.value,
                input.scan.version.as_deref().unwrap_or_default()
            )
        } else {
            String::new()
        };
        entries.push(format!(
            "  {{ path = {}, regex = {} }},  # line {}: {}{behind}\n",
            quote(&path),
            quote(&f.regex),
            f.line,
            f.text.replace('\n', " ")
        ));
    }
    if entries.is_empty() && input.det.tag_is_version() {
        out.push_str(
            "files = []  # the git tag is the version: `runway release bump` tags and edits no file\n",
        );
    } else if entries.is_empty() {
        out.push_str(&format!(
            "files = []  # {FILL_IN}: no version file found; add {{ path = \"...\", regex = '...([0-9.]+)...' }}\n"
        ));
    } else {
        out.push_str("files = [\n");
        for e in entries {
            out.push_str(&e);
        }
        out.push_str("]\n");
    }
    if !input.scan.unclassified.is_empty() {
        out.push_str("# Lines holding the version that were not classified (check them):\n");
        for u in input.scan.unclassified.iter().take(10) {
            out.push_str(&format!(
                "#   {}:{}: {}\n",
                u.path.display(),
                u.line,
                u.text.replace('\n', " ")
            ));
        }
    }
}

fn release_section(out: &mut String, input: &Input) {
    let m = input.migration;
    let t = input.tags;
    out.push_str("[release]\n");
    out.push_str(&format!("tag_prefix = {}  # {}\n", quote(&t.prefix), t.why));
    for o in &t.others {
        out.push_str(&format!("# {o}\n"));
    }
    out.push_str("branches = [\"main\", \"master\"]\n");
    if let Some(b) = m.bump_minor_pre_major {
        out.push_str(&format!(
            "bump_minor_pre_major = {b}  # from {}\n",
            m.sources.join(", ")
        ));
    }
    if let Some(b) = m.bump_patch_for_minor_pre_major {
        out.push_str(&format!("bump_patch_for_minor_pre_major = {b}\n"));
    }
    if m.skip_changelog {
        out.push_str(
            "checks = { changelog = \"off\" }  # release-please's skip-changelog: no changelog entry is expected\n",
        );
    } else if !input.has_changelog {
        out.push_str(&format!(
            "checks = {{ changelog = \"warn\" }}  # no `{}` here yet: `runway release bump` starts one; set \"fail\" once it exists\n",
            m.changelog_path.as_deref().unwrap_or("CHANGELOG.md")
        ));
    }
    files_section(out, input);
    if !m.sections.is_empty() || m.changelog_path.is_some() {
        out.push_str(&format!(
            "\n[release.changelog]  # from {}\n",
            m.sources.join(", ")
        ));
        if let Some(p) = &m.changelog_path {
            out.push_str(&format!("path = {}\n", quote(p)));
        }
        if !m.sections.is_empty() {
            out.push_str("sections = [\n");
            for s in &m.sections {
                out.push_str(&format!(
                    "  {{ type = {}, section = {}{} }},\n",
                    quote(&s.kind),
                    quote(&s.section),
                    if s.hidden { ", hidden = true" } else { "" }
                ));
            }
            out.push_str("]\n");
        }
    }
    let mut packages: Vec<(String, String, String)> = m
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.path.clone(), p.tag_prefix.clone()))
        .collect();
    for p in &t.packages {
        if !packages.iter().any(|q| q.0 == p.0) {
            packages.push(p.clone());
        }
    }
    for (name, path, prefix) in packages {
        out.push_str(&format!(
            "\n[[release.packages]]  # `runway release status --package {name}`\nname = {}\npath = {}\ntag_prefix = {}\n",
            quote(&name),
            quote(&path),
            quote(&prefix)
        ));
    }
    if let Some(Transport::Stdio) = input.inspection.transport.as_ref().map(|t| t.value)
        && let Some(p) = &input.inspection.process
    {
        out.push_str(&format!(
            "\n# The server speaks stdio: once it starts from a checkout (dependencies\n# installed, built), `release status` can compare its tools with the last\n# release's. Left commented: a command that cannot start fails every release command.\n# [release.surface_source]\n# command = {}\n",
            list(&p.value.command)
        ));
    }
    out.push_str(
        "\n# Commands that must pass before a release (`runway release check`).\n# [[release.gates]]\n# name = \"tests\"\n# run = \"make test\"\n",
    );
    out.push_str(
        "\n# What `runway release report VERSION` judges a release by (these are the\n# defaults: MockLoop's success criteria, no critical issue, errors under 1%).\n# [release.criteria]\n# max_rollbacks = 0\n# max_incidents_p0_p1 = 0\n# min_verify_pass_rate = 0.99\n",
    );
}

fn environment(out: &mut String, input: &Input, env: &str, target: Target) {
    let i = input.inspection;
    let port = port(i);
    let path = mcp_path(i);
    let name = input.name.rsplit('/').next().unwrap_or(input.name);
    let production = env == "production";
    out.push_str(&format!("\n[environments.{env}]\n"));
    let local_url = format!("http://127.0.0.1:{port}{path}");
    match (target, production) {
        (Target::Process | Target::Compose | Target::Docker, false) => {
            out.push_str(&format!("url = {}\n", quote(&local_url)));
        }
        _ => out.push_str(&format!(
            "url = \"https://{name}.example.com{path}\"  # {FILL_IN}: the address clients use\n"
        )),
    }
    if let Some(h) = &i.health_path {
        out.push_str(&format!(
            "health_path = {}  # served in {}\n",
            quote(&h.value),
            h.from
        ));
    }
    if let Some(n) = &i.no_own_version {
        out.push_str(&format!(
            "expect_version = \"\"  # {}: FastMCP(...) is given no `version=`, so the server reports its SDK's version; pass it the release's and remove this line\n",
            n.from
        ));
    }
    if let Some(t) = &i.transport {
        out.push_str(&format!(
            "# transport: {} (seen in {})\n",
            t.value.as_str(),
            t.from
        ));
    }
    if production {
        out.push_str(&format!(
            "# token_env = \"PROD_MCP_TOKEN\"  # {FILL_IN} if the server needs a bearer token\n"
        ));
    }
    out.push_str(&format!(
        "\n[environments.{env}.thresholds]\ntool_p95_ms = 1000  # seeds: tool calls under 1 s\n"
    ));

    out.push_str(&format!("\n[environments.{env}.deploy]\n"));
    let image = i.image_repo.clone().map_or_else(
        || format!("{name}:{{version}}"),
        |r| format!("{r}:{{version}}"),
    );
    match target {
        Target::Process => {
            let p = &i.process.as_ref().expect("target chosen from it").value;
            out.push_str(&format!(
                "target = \"process\"  # {}\ncommand = {}\nport = {port}\n",
                i.process.as_ref().map_or("", |p| p.from.as_str()),
                list(&p.command)
            ));
            out.push_str(&format!(
                "env = {{ {} }}\nhealth_timeout = \"60s\"\n",
                process_env(i).join(", ")
            ));
        }
        Target::Compose => {
            let c = i.compose.as_ref().expect("target chosen from it");
            let mut up = vec![
                "docker",
                "compose",
                "-f",
                c.from.as_str(),
                "up",
                "-d",
                "--build",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
            if let Some(s) = &c.value {
                up.push(s.clone());
            }
            out.push_str(&format!(
                "target = \"command\"  # {}\ndeploy = {}\nenv = {{ VERSION = \"{{version}}\" }}\n",
                c.from,
                list(&up)
            ));
        }
        Target::Docker => {
            out.push_str(&format!(
                "target = \"docker\"  # Dockerfile\nimage = {}{}\nhealth_timeout = \"60s\"\n\n[environments.{env}.deploy.docker]\ncontainer = {}\n",
                quote(&image),
                if i.image_repo.is_none() {
                    format!("  # {FILL_IN}: the registry the pipeline pushes to")
                } else {
                    String::new()
                },
                quote(&format!("{name}-{env}"))
            ));
        }
        Target::Kubernetes => {
            let k = i.kubernetes.as_ref().expect("target chosen from it");
            out.push_str(&format!(
                "target = \"kubernetes\"  # {}\nimage = {}{}\n\n[environments.{env}.deploy.kubernetes]\ndeployment = {}\n",
                k.from,
                quote(&image),
                if i.image_repo.is_none() {
                    format!("  # {FILL_IN}: the registry the cluster pulls from")
                } else {
                    String::new()
                },
                quote(&k.value.name)
            ));
            if let Some(ns) = &k.value.namespace {
                out.push_str(&format!("namespace = {}\n", quote(ns)));
            }
            if let Some(c) = &k.value.container {
                out.push_str(&format!("container = {}\n", quote(c)));
            }
        }
    }

    let bake = if production { "1h" } else { "10m" };
    out.push_str(&format!(
        "\n[environments.{env}.analysis]  # the watch after a deploy\nbake = \"{bake}\"{}\ninterval = \"60s\"\nmin_samples = {}\navailability_min = 0.95  # seeds: roll back below 95% availability in the first hour\nauth_failure_max = 0.10  # seeds: roll back above 10% authentication failures\np95_max_ms = 2000  # seeds: p95 under 2 s\n",
        if production { "  # seeds: the first hour" } else { "" },
        if production { 10 } else { 5 },
    ));
    out.push_str(&format!(
        "\n[environments.{env}.rollback]\nauto = true  # seeds: roll back on a failed verify or watch\n"
    ));
    if production {
        out.push_str(&format!(
            "incident = \"P1\"\n\n[environments.{env}.window]  # seeds: Tuesday/Wednesday 10:00-16:00 UTC; avoid Fridays and weekends\ntimezone = \"UTC\"\nallow = [\"Tue 10:00-16:00\", \"Wed 10:00-16:00\"]\nblock = [\"Fri\", \"Sat\", \"Sun\"]\noutside = \"refuse\"\n"
        ));
        out.push_str(&format!(
            "\n[environments.{env}.gates]\nrelease_check = true\n"
        ));
        if let Some(e) = &i.env_production {
            let required = required_vars(&e.value);
            if !required.is_empty() {
                out.push_str(&format!(
                    "required_env = {}  # from {}: its secrets and placeholders (the others have defaults)\n",
                    list(&required),
                    e.from
                ));
            }
        }
    } else if let Some(e) = &i.env_example {
        let required = required_vars(&e.value);
        if !required.is_empty() {
            out.push_str(&format!(
                "\n# [environments.{env}.gates]\n# required_env = {}  # from {}\n",
                list(&required),
                e.from
            ));
        }
    }
}

fn required_vars(vars: &[super::inspect::EnvVar]) -> Vec<String> {
    vars.iter()
        .filter(|v| v.required())
        .map(|v| v.name.clone())
        .collect()
}

/// The process target's environment: `HOST`/`PORT`, and the example file's
/// own host, port and transport variables (`MCP_PORT = "{port}"`).
fn process_env(i: &Inspection) -> Vec<String> {
    let mut env = vec![
        "HOST = \"127.0.0.1\"".to_owned(),
        "PORT = \"{port}\"".to_owned(),
    ];
    let Some(e) = &i.env_example else {
        return env;
    };
    for v in &e.value {
        let n = v.name.as_str();
        let value = v.value.trim();
        if n == "PORT" || n == "HOST" {
            continue;
        }
        if n.ends_with("_PORT") && value.parse::<u16>().is_ok() {
            env.push(format!("{n} = \"{{port}}\""));
        } else if n.ends_with("_HOST")
            && matches!(value, "0.0.0.0" | "127.0.0.1" | "localhost" | "::")
        {
            env.push(format!("{n} = \"127.0.0.1\""));
        } else if n.ends_with("TRANSPORT")
            && let Some(t) = &i.transport
            && t.value != Transport::Stdio
        {
            // The server's own switch: HTTP, as the code (or the production
            // example) serves it, whatever the development default says.
            let val = match t.from.split_once('=') {
                Some((var, val)) if var == n => val.to_owned(),
                _ if t.value == Transport::Sse => "sse".to_owned(),
                _ => "http".to_owned(),
            };
            env.push(format!("{n} = {}", quote(&val)));
        }
    }
    env
}

/// The whole file.
pub fn render(input: &Input) -> String {
    let mut out = String::new();
    out.push_str("# Written by `runway init`. Every key is documented in docs/config.md.\n");
    out.push_str(&format!(
        "# Lines marked `{FILL_IN}` hold what Runway could not know: edit them.\n\n"
    ));
    out.push_str(&format!(
        "[project]\nname = {}  # {}\n\n",
        quote(input.name),
        input.name_from
    ));
    release_section(&mut out, input);
    let (staging, production) = targets(input.inspection);
    match staging {
        Some(t) => environment(&mut out, input, "staging", t),
        None => {
            // Nothing says how the server starts: a process target whose
            // command is the one line to fill in, so `plan staging` works.
            let mut i = input.inspection.clone();
            i.process = Some(super::inspect::From {
                value: super::inspect::Process {
                    command: vec!["./start-server".into(), "--port".into(), "{port}".into()],
                    port_in_command: true,
                },
                from: format!(
                    "{FILL_IN}: the command that starts the server (no console script, `bin`, `npm start`, Dockerfile, compose file or manifest was found)"
                ),
            });
            let with = Input {
                inspection: &i,
                ..*input
            };
            environment(&mut out, &with, "staging", Target::Process);
        }
    }
    if let Some(t) = production {
        environment(&mut out, input, "production", t);
    }
    out
}
