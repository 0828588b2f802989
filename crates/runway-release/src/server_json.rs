//! The MCP Registry's `server.json`, checked against the registry's own
//! documented rules before a release publishes it.
//!
//! `mcp-publisher publish` refuses a bad `server.json` only after the
//! packages it names are already on npm or PyPI, where a version cannot be
//! taken back; `runway release check` finds the same problems first. Each
//! rule is one row, and each row's hint names the registry document it
//! comes from:
//! - the `server.json` schema (`docs/reference/server-json/server.schema.json`,
//!   schema 2025-12-11): `name` in reverse-DNS form with exactly one `/`
//!   (3 to 200 characters), `description` 1 to 100 characters, `version` at
//!   most 255 characters and never a range, a package's `registryType`,
//!   `identifier` and `transport` required and its `version` never `latest`
//!   or a range, `fileSha256` for MCPB packages;
//! - the official registry's requirements
//!   (`docs/reference/server-json/official-registry-requirements.md`): the
//!   public registries only, a submitted version of at most 128 KiB of
//!   compact JSON, every string in `packages` and `remotes` at most 4096
//!   bytes, `_meta` kept only under the publisher-provided key (4096 bytes);
//! - package ownership (`modelcontextprotocol.io/registry/package-types`):
//!   npm's `mcpName` in `package.json`, an `mcp-name:` line in the README of
//!   a PyPI or NuGet package, the `io.modelcontextprotocol.server.name` label
//!   of an OCI image.
//!
//! Remotes must be HTTPS here, stricter than the schema's `https?://`: a
//! listed server is reached over the internet, with the user's credentials.

use std::path::Path;

use serde_json::Value;

/// Where the file is looked for, relative to the project root.
pub const FILE: &str = "server.json";

/// The registry's documents each rule comes from, for the hints.
pub const SCHEMA_DOC: &str = "https://github.com/modelcontextprotocol/registry/blob/main/docs/reference/server-json/generic-server-json.md";
pub const OFFICIAL_DOC: &str = "https://github.com/modelcontextprotocol/registry/blob/main/docs/reference/server-json/official-registry-requirements.md";
pub const PACKAGES_DOC: &str = "https://modelcontextprotocol.io/registry/package-types";

/// The schema's limits (server.schema.json, 2025-12-11).
pub const NAME_LEN: std::ops::RangeInclusive<usize> = 3..=200;
pub const MAX_DESCRIPTION: usize = 100;
pub const MAX_VERSION: usize = 255;
/// The official registry's size limits.
pub const MAX_DOCUMENT: usize = 131_072;
pub const MAX_STRING: usize = 4096;
pub const MAX_PUBLISHER_META: usize = 4096;
/// The one `_meta` key the official registry keeps.
pub const PUBLISHER_META: &str = "io.modelcontextprotocol.registry/publisher-provided";

/// One rule's verdict: what is wrong (empty when it holds), what was seen
/// when it holds, and where the rule is written down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `server.json name`, `server.json packages`...
    pub name: &'static str,
    pub problems: Vec<String>,
    /// What a passing row says.
    pub passed: String,
    pub hint: String,
}

impl Rule {
    fn new(name: &'static str, hint: impl Into<String>) -> Rule {
        Rule {
            name,
            problems: Vec::new(),
            passed: String::new(),
            hint: hint.into(),
        }
    }

    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A remote the file lists: its index, transport type and URL as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub index: usize,
    pub kind: String,
    pub url: String,
}

/// Why a `server.json` could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ServerJsonError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not valid JSON: {source}", path.display())]
    Json {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{}` is not a JSON object", path.display())]
    NotObject { path: std::path::PathBuf },
}

/// Reads and parses the file at `path` as a JSON object.
pub fn read(path: &Path) -> Result<Value, ServerJsonError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServerJsonError::Read {
        path: path.to_owned(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|source| ServerJsonError::Json {
        path: path.to_owned(),
        source,
    })?;
    if !value.is_object() {
        return Err(ServerJsonError::NotObject {
            path: path.to_owned(),
        });
    }
    Ok(value)
}

/// The remotes listed in `doc`, in order.
pub fn remotes(doc: &Value) -> Vec<Remote> {
    doc.get("remotes")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .enumerate()
                .map(|(index, r)| Remote {
                    index,
                    kind: r
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    url: r
                        .get("url")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every rule over `doc`, the parsed `server.json` of the project at `root`
/// (read for the ownership markers), for the release `version` when known.
pub fn check(doc: &Value, root: &Path, version: Option<&str>) -> Vec<Rule> {
    let mut rules = vec![
        name_rule(doc),
        description_rule(doc),
        version_rule(doc, version),
        packages_rule(doc, version),
        remotes_rule(doc),
    ];
    if let Some(r) = ownership_rule(doc, root) {
        rules.push(r);
    }
    rules.push(size_rule(doc));
    rules
}

fn str_field<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

/// The problem with a field the schema requires as a string, if any.
fn required_string<'a>(doc: &'a Value, key: &str, at: &str) -> Result<&'a str, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Err(format!("`{at}` is missing (required)")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("`{at}` must be a string, not `{other}`")),
    }
}

fn name_rule(doc: &Value) -> Rule {
    let mut r = Rule::new(
        "server.json name",
        format!(
            "name the server `<reverse-DNS namespace>/<name>`, such as `io.github.user/weather` (a GitHub login) or `com.example/weather` (a domain you own); rules: {SCHEMA_DOC}"
        ),
    );
    let name = match required_string(doc, "name", "name") {
        Ok(n) => n,
        Err(p) => {
            r.problems.push(p);
            return r;
        }
    };
    let len = name.chars().count();
    if !NAME_LEN.contains(&len) {
        r.problems.push(format!(
            "`name` is {len} characters; the registry takes {} to {}",
            NAME_LEN.start(),
            NAME_LEN.end()
        ));
    }
    let slashes = name.matches('/').count();
    if slashes != 1 {
        r.problems.push(format!(
            "`name` `{name}` has {slashes} `/`; it needs exactly one, between the namespace and the server name"
        ));
    } else if let Some((namespace, server)) = name.split_once('/') {
        let ns_ok = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
        let server_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if namespace.is_empty() || !namespace.chars().all(ns_ok) {
            r.problems.push(format!(
                "`name` namespace `{namespace}` may hold only letters, digits, `.` and `-`"
            ));
        } else if !namespace.contains('.') || namespace.split('.').any(str::is_empty) {
            r.problems.push(format!(
                "`name` namespace `{namespace}` is not reverse-DNS (`io.github.user`, `com.example`): the registry publishes only under a namespace you prove you own"
            ));
        }
        if server.is_empty() || !server.chars().all(server_ok) {
            r.problems.push(format!(
                "`name` server part `{server}` may hold only letters, digits, `.`, `_` and `-`"
            ));
        }
    }
    r.passed = format!("`{name}`");
    r
}

fn description_rule(doc: &Value) -> Rule {
    let mut r = Rule::new(
        "server.json description",
        format!(
            "say what the server does in at most {MAX_DESCRIPTION} characters (the registry refuses a longer one); rules: {SCHEMA_DOC}"
        ),
    );
    match required_string(doc, "description", "description") {
        Err(p) => r.problems.push(p),
        Ok(d) => {
            let len = d.chars().count();
            if len == 0 {
                r.problems.push("`description` is empty".into());
            } else if len > MAX_DESCRIPTION {
                r.problems.push(format!(
                    "`description` is {len} characters, over the registry's {MAX_DESCRIPTION}"
                ));
            }
            r.passed = format!("{len} characters");
        }
    }
    if let Some(t) = doc.get("title") {
        match t.as_str() {
            Some(t) if (1..=MAX_DESCRIPTION).contains(&t.chars().count()) => {}
            Some(t) => r.problems.push(format!(
                "`title` is {} characters; the registry takes 1 to {MAX_DESCRIPTION}",
                t.chars().count()
            )),
            None => r.problems.push("`title` must be a string".into()),
        }
    }
    r
}

/// Whether `v` is a range or a tag rather than one exact version: the
/// registry rejects `latest`, `^1.2.3`, `~1.2.3`, `>=1.2.3`, `1.x` and `1.*`.
pub fn is_range(v: &str) -> bool {
    let v = v.trim();
    v.eq_ignore_ascii_case("latest")
        || v.starts_with(['^', '~', '>', '<', '='])
        || v.contains('*')
        || v.contains("||")
        || v.contains(' ')
        || v.split(['-', '+'])
            .next()
            .unwrap_or(v)
            .split('.')
            .any(|part| part.eq_ignore_ascii_case("x"))
}

fn version_rule(doc: &Value, release: Option<&str>) -> Rule {
    let mut r = Rule::new(
        "server.json version",
        format!(
            "`version` is the exact version being released; `runway release bump` moves it with the other version files; rules: {SCHEMA_DOC}"
        ),
    );
    let v = match required_string(doc, "version", "version") {
        Ok(v) => v,
        Err(p) => {
            r.problems.push(p);
            return r;
        }
    };
    if v.chars().count() > MAX_VERSION {
        r.problems.push(format!(
            "`version` is longer than the registry's {MAX_VERSION} characters"
        ));
    } else if is_range(v) {
        r.problems.push(format!(
            "`version` `{v}` is a range or a tag, not one exact version"
        ));
    } else if let Some(want) = release
        && v != want
    {
        r.problems
            .push(format!("`version` is `{v}`, but the release is `{want}`"));
    }
    r.passed = match release {
        Some(want) => format!("`{v}`, the release version `{want}`"),
        None => format!("`{v}`"),
    };
    r
}

/// The registry base URL the official registry accepts for a registry type.
fn official_base(registry_type: &str) -> Option<&'static str> {
    match registry_type {
        "npm" => Some("https://registry.npmjs.org"),
        "pypi" => Some("https://pypi.org"),
        "nuget" => Some("https://api.nuget.org"),
        _ => None,
    }
}

fn packages_rule(doc: &Value, release: Option<&str>) -> Rule {
    let mut r = Rule::new(
        "server.json packages",
        format!(
            "each package needs `registryType`, `identifier`, `transport` and its exact `version` (not `latest` nor a range); rules: {SCHEMA_DOC} and {OFFICIAL_DOC}"
        ),
    );
    let packages = match doc.get("packages") {
        None => {
            r.passed = "none listed".into();
            return r;
        }
        Some(Value::Array(p)) => p,
        Some(_) => {
            r.problems
                .push("`packages` must be an array of package entries".into());
            return r;
        }
    };
    for (i, p) in packages.iter().enumerate() {
        let at = |k: &str| format!("packages[{i}].{k}");
        if !p.is_object() {
            r.problems
                .push(format!("`packages[{i}]` must be an object"));
            continue;
        }
        let kind = match required_string(p, "registryType", &at("registryType")) {
            Ok(k) => k.to_ascii_lowercase(),
            Err(e) => {
                r.problems.push(e);
                String::new()
            }
        };
        match required_string(p, "identifier", &at("identifier")) {
            Ok(id) if id.trim().is_empty() => {
                r.problems.push(format!("`{}` is empty", at("identifier")));
            }
            Ok(id) if id.contains(char::is_whitespace) => {
                r.problems
                    .push(format!("`{}` `{id}` contains spaces", at("identifier")));
            }
            Ok(_) => {}
            Err(e) => r.problems.push(e),
        }
        match p.get("transport") {
            None => r
                .problems
                .push(format!("`{}` is missing (required)", at("transport"))),
            Some(t) => match t.get("type").and_then(Value::as_str) {
                Some("stdio" | "streamable-http" | "sse") => {}
                Some(other) => r.problems.push(format!(
                    "`{}` is `{other}`; use `stdio`, `streamable-http` or `sse`",
                    at("transport.type")
                )),
                None => r
                    .problems
                    .push(format!("`{}` is missing (required)", at("transport.type"))),
            },
        }
        // An OCI image or an MCPB file carries its version in the identifier.
        let version_in_identifier = matches!(kind.as_str(), "oci" | "mcpb");
        match p.get("version") {
            None if !version_in_identifier => {
                r.problems.push(format!("`{}` is missing", at("version")))
            }
            None => {}
            Some(Value::String(v)) if v.trim().is_empty() => {
                r.problems.push(format!("`{}` is empty", at("version")));
            }
            Some(Value::String(v)) if is_range(v) => r.problems.push(format!(
                "`{}` `{v}` is a range or a tag, not one exact version",
                at("version")
            )),
            Some(Value::String(v)) => {
                if let Some(want) = release
                    && v != want
                {
                    r.problems.push(format!(
                        "`{}` is `{v}`, but the release is `{want}`",
                        at("version")
                    ));
                }
            }
            Some(other) => r.problems.push(format!(
                "`{}` must be a string, not `{other}`",
                at("version")
            )),
        }
        if let (Some(base), Some(official)) =
            (str_field(p, "registryBaseUrl"), official_base(&kind))
            && base.trim_end_matches('/') != official
        {
            r.problems.push(format!(
                "`{}` is `{base}`; the official registry takes `{kind}` packages from `{official}` only",
                at("registryBaseUrl")
            ));
        }
        if kind == "mcpb" {
            let sha_ok = str_field(p, "fileSha256").is_some_and(|s| {
                s.len() == 64
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            });
            if !sha_ok {
                r.problems.push(format!(
                    "`{}` must be the file's SHA-256 (64 lowercase hex digits) for an MCPB package",
                    at("fileSha256")
                ));
            }
        }
    }
    r.passed = format!("{} package(s)", packages.len());
    r
}

fn remotes_rule(doc: &Value) -> Rule {
    let mut r = Rule::new(
        "server.json remotes",
        format!(
            "list each remote as `{{\"type\": \"streamable-http\", \"url\": \"https://...\"}}`; clients send credentials to it, so only HTTPS; rules: {SCHEMA_DOC}"
        ),
    );
    match doc.get("remotes") {
        None => {
            r.passed = "none listed".into();
            return r;
        }
        Some(Value::Array(_)) => {}
        Some(_) => {
            r.problems
                .push("`remotes` must be an array of transports".into());
            return r;
        }
    }
    let listed = remotes(doc);
    for rem in &listed {
        let at = |k: &str| format!("remotes[{}].{k}", rem.index);
        if !matches!(rem.kind.as_str(), "streamable-http" | "sse") {
            r.problems.push(if rem.kind.is_empty() {
                format!("`{}` is missing (required)", at("type"))
            } else {
                format!(
                    "`{}` is `{}`; a remote is `streamable-http` or `sse`",
                    at("type"),
                    rem.kind
                )
            });
        }
        if rem.url.is_empty() {
            r.problems
                .push(format!("`{}` is missing (required)", at("url")));
            continue;
        }
        // `{var}` templates are filled by the client: any value will parse.
        let filled = fill_template(&rem.url);
        match url::Url::parse(&filled) {
            Err(e) => r
                .problems
                .push(format!("`{}` `{}` is not a URL: {e}", at("url"), rem.url)),
            Ok(u) if u.scheme() != "https" => {
                r.problems
                    .push(format!("`{}` `{}` is not HTTPS", at("url"), rem.url))
            }
            Ok(_) => {}
        }
    }
    r.passed = format!("{} HTTPS remote(s)", listed.len());
    r
}

/// `url` with each `{variable}` replaced by a placeholder value.
pub fn fill_template(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('x');
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Package ownership, for the packages whose marker lives in this repository.
fn ownership_rule(doc: &Value, root: &Path) -> Option<Rule> {
    let name = str_field(doc, "name")?;
    let packages = doc.get("packages")?.as_array()?;
    let mut r = Rule::new(
        "server.json ownership",
        format!(
            "the registry checks that the package names this server: `\"mcpName\": \"{name}\"` in `package.json` (npm), a `mcp-name: {name}` line in the README (PyPI, NuGet), `LABEL io.modelcontextprotocol.server.name=\"{name}\"` in the Dockerfile (OCI); rules: {PACKAGES_DOC}"
        ),
    );
    let readme = || {
        ["README.md", "README.rst", "README.txt", "README"]
            .iter()
            .find_map(|f| std::fs::read_to_string(root.join(f)).ok().map(|t| (*f, t)))
    };
    let mut checked = Vec::new();
    for (i, p) in packages.iter().enumerate() {
        let kind = str_field(p, "registryType")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let id = str_field(p, "identifier").unwrap_or_default();
        match kind.as_str() {
            "npm" => {
                let Ok(text) = std::fs::read_to_string(root.join("package.json")) else {
                    continue;
                };
                let Ok(pkg) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                // Only the package this repository publishes.
                if str_field(&pkg, "name") != Some(id) {
                    continue;
                }
                checked.push(format!("npm `{id}`"));
                match str_field(&pkg, "mcpName") {
                    Some(m) if m == name => {}
                    Some(m) => r.problems.push(format!(
                        "`package.json` `mcpName` is `{m}`, not the `name` `{name}` (`packages[{i}]`)"
                    )),
                    None => r.problems.push(format!(
                        "`package.json` has no `mcpName` for `packages[{i}]` (`{id}`)"
                    )),
                }
            }
            "pypi" | "nuget" => {
                let Some((file, text)) = readme() else {
                    r.problems.push(format!(
                        "no README to carry `mcp-name: {name}` for `packages[{i}]` (`{id}`)"
                    ));
                    continue;
                };
                checked.push(format!("{kind} `{id}`"));
                if !text
                    .lines()
                    .any(|l| l.contains(&format!("mcp-name: {name}")))
                {
                    r.problems.push(format!(
                        "`{file}` has no `mcp-name: {name}` line for `packages[{i}]` (`{id}`)"
                    ));
                }
            }
            "oci" => {
                let Ok(text) = std::fs::read_to_string(root.join("Dockerfile")) else {
                    continue;
                };
                checked.push(format!("oci `{id}`"));
                let labelled = text.lines().any(|l| {
                    let l = l.trim();
                    l.to_ascii_uppercase().starts_with("LABEL")
                        && l.contains("io.modelcontextprotocol.server.name")
                        && l.contains(name)
                });
                if !labelled {
                    r.problems.push(format!(
                        "`Dockerfile` has no `LABEL io.modelcontextprotocol.server.name=\"{name}\"` for `packages[{i}]` (`{id}`)"
                    ));
                }
            }
            _ => {}
        }
    }
    if checked.is_empty() && r.problems.is_empty() {
        return None;
    }
    r.passed = format!("{} name `{name}`", checked.join(", "));
    Some(r)
}

fn size_rule(doc: &Value) -> Rule {
    let mut r = Rule::new(
        "server.json size",
        format!(
            "the official registry takes at most {MAX_DOCUMENT} bytes of compact JSON, {MAX_STRING} bytes per string in `packages` and `remotes`, and keeps `_meta` only under `{PUBLISHER_META}` ({MAX_PUBLISHER_META} bytes); rules: {OFFICIAL_DOC}"
        ),
    );
    let size = serde_json::to_string(doc).map(|s| s.len()).unwrap_or(0);
    if size > MAX_DOCUMENT {
        r.problems.push(format!(
            "the document is {size} bytes of compact JSON, over {MAX_DOCUMENT}"
        ));
    }
    for key in ["packages", "remotes"] {
        if let Some(v) = doc.get(key) {
            long_strings(v, key, &mut r.problems);
        }
    }
    if let Some(meta) = doc.get("_meta").and_then(Value::as_object) {
        for k in meta.keys().filter(|k| *k != PUBLISHER_META) {
            r.problems.push(format!(
                "`_meta.{k}` would be dropped: the official registry keeps only `{PUBLISHER_META}`"
            ));
        }
        if let Some(p) = meta.get(PUBLISHER_META) {
            let n = serde_json::to_string(p).map(|s| s.len()).unwrap_or(0);
            if n > MAX_PUBLISHER_META {
                r.problems.push(format!(
                    "`_meta.{PUBLISHER_META}` is {n} bytes, over {MAX_PUBLISHER_META}"
                ));
            }
        }
    }
    r.passed = format!("{size} bytes");
    r
}

/// Every string under `v` longer than [`MAX_STRING`] bytes, named by its path.
fn long_strings(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() > MAX_STRING => {
            out.push(format!("`{at}` is {} bytes, over {MAX_STRING}", s.len()))
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                long_strings(item, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                long_strings(item, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/server-json")
            .join(name);
        read(&path).unwrap_or_else(|e| panic!("{e}"))
    }

    fn rules(name: &str, version: Option<&str>) -> Vec<Rule> {
        check(&fixture(name), Path::new("/nonexistent"), version)
    }

    fn problems(name: &str, version: Option<&str>, rule: &str) -> Vec<String> {
        rules(name, version)
            .into_iter()
            .find(|r| r.name == rule)
            .unwrap_or_else(|| panic!("no rule `{rule}`"))
            .problems
    }

    #[test]
    fn a_valid_file_passes_every_rule() {
        for r in rules("valid.json", Some("1.4.0")) {
            assert!(r.ok(), "{r:?}");
            assert!(r.hint.contains("modelcontextprotocol"), "{r:?}");
        }
        let remotes = remotes(&fixture("valid.json"));
        assert_eq!(remotes.len(), 1);
        assert_eq!(remotes[0].url, "https://mcp.example.com/mcp");
    }

    #[test]
    fn a_name_without_one_slash_or_a_reverse_dns_namespace_fails() {
        let p = problems("bad-name.json", None, "server.json name");
        assert!(p[0].contains("has 2 `/`"), "{p:?}");
        let doc =
            serde_json::json!({"name": "weather/server", "description": "d", "version": "1.0.0"});
        let r = name_rule(&doc);
        assert!(r.problems[0].contains("not reverse-DNS"), "{r:?}");
        let r = name_rule(&serde_json::json!({"description": "d"}));
        assert_eq!(r.problems, ["`name` is missing (required)"]);
        let r = name_rule(&serde_json::json!({"name": "io.github.me/a b"}));
        assert!(r.problems[0].contains("server part `a b`"), "{r:?}");
    }

    #[test]
    fn a_description_over_100_characters_fails_naming_its_length() {
        let p = problems("long-description.json", None, "server.json description");
        assert_eq!(
            p,
            ["`description` is 134 characters, over the registry's 100"]
        );
    }

    #[test]
    fn versions_must_be_exact_and_the_release_version() {
        let p = problems("ranges.json", Some("1.4.0"), "server.json version");
        assert_eq!(
            p,
            ["`version` `^1.4.0` is a range or a tag, not one exact version"]
        );
        let p = problems("ranges.json", Some("1.4.0"), "server.json packages");
        assert!(
            p.contains(
                &"`packages[0].version` `latest` is a range or a tag, not one exact version"
                    .to_owned()
            ),
            "{p:?}"
        );
        assert!(
            p.contains(&"`packages[1].version` is `1.3.0`, but the release is `1.4.0`".to_owned()),
            "{p:?}"
        );
        let p = problems("valid.json", Some("1.5.0"), "server.json version");
        assert_eq!(p, ["`version` is `1.4.0`, but the release is `1.5.0`"]);
        for v in [
            "latest", "^1.2.3", "~1.2.3", ">=1.2.3", "1.x", "1.*", "1.2.x", "1 - 2",
        ] {
            assert!(is_range(v), "{v}");
        }
        for v in ["1.2.3", "2.1.0-alpha", "1.0.0+build.5", "0.19.0-hotfix"] {
            assert!(!is_range(v), "{v}");
        }
    }

    #[test]
    fn package_entries_need_their_fields_and_the_public_registries() {
        let p = problems("bad-packages.json", None, "server.json packages");
        for needle in [
            "`packages[0].registryType` is missing (required)",
            "`packages[0].transport` is missing (required)",
            "`packages[1].identifier` is missing (required)",
            "`packages[1].version` is missing",
            "`packages[1].registryBaseUrl` is `https://npm.example.com`; the official registry takes `npm` packages from `https://registry.npmjs.org` only",
            "`packages[2].fileSha256` must be the file's SHA-256",
            "`packages[3].identifier` `my server` contains spaces",
        ] {
            assert!(p.iter().any(|x| x.starts_with(needle)), "{needle}: {p:?}");
        }
        // An OCI image's version is its tag.
        assert!(!p.iter().any(|x| x.starts_with("`packages[4]")), "{p:?}");
    }

    #[test]
    fn a_remote_must_be_https_and_a_streamable_http_or_sse_transport() {
        let p = problems("bad-remotes.json", None, "server.json remotes");
        assert_eq!(
            p,
            [
                "`remotes[0].url` `http://mcp.example.com/mcp` is not HTTPS",
                "`remotes[1].type` is `stdio`; a remote is `streamable-http` or `sse`",
                "`remotes[2].url` is missing (required)",
            ]
        );
        // A templated URL is judged with its variables filled in.
        let doc = serde_json::json!({"remotes": [{"type": "sse", "url": "https://{tenant}.example.com/sse"}]});
        assert!(remotes_rule(&doc).ok());
        assert_eq!(fill_template("https://{a}.x/{b}"), "https://x.x/x");
    }

    #[test]
    fn size_limits_and_dropped_meta_keys_are_named() {
        let mut doc = fixture("valid.json");
        doc["remotes"][0]["headers"] =
            serde_json::json!([{"name": "X", "value": "v".repeat(5000)}]);
        doc["_meta"] = serde_json::json!({"com.example/ci": {}, PUBLISHER_META: {"x": "y"}});
        let r = size_rule(&doc);
        assert_eq!(
            r.problems,
            [
                "`remotes[0].headers[0].value` is 5000 bytes, over 4096",
                "`_meta.com.example/ci` would be dropped: the official registry keeps only `io.modelcontextprotocol.registry/publisher-provided`",
            ]
        );
        doc["_meta"] = serde_json::json!({PUBLISHER_META: {"blob": "b".repeat(200_000)}});
        let r = size_rule(&doc);
        assert!(
            r.problems.iter().any(|p| p.starts_with("the document is")),
            "{r:?}"
        );
        assert!(r.problems.iter().any(|p| p.contains("over 4096")), "{r:?}");
    }

    #[test]
    fn ownership_markers_are_read_from_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let doc = serde_json::json!({
            "name": "io.github.me/weather",
            "packages": [
                {"registryType": "npm", "identifier": "@me/weather", "version": "1.0.0", "transport": {"type": "stdio"}},
                {"registryType": "pypi", "identifier": "weather-mcp", "version": "1.0.0", "transport": {"type": "stdio"}},
            ]
        });
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"name": "@me/weather", "version": "1.0.0"}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("README.md"), "# Weather\n").unwrap();
        let r = ownership_rule(&doc, dir.path()).unwrap();
        assert_eq!(
            r.problems,
            [
                "`package.json` has no `mcpName` for `packages[0]` (`@me/weather`)",
                "`README.md` has no `mcp-name: io.github.me/weather` line for `packages[1]` (`weather-mcp`)",
            ]
        );
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"name": "@me/weather", "version": "1.0.0", "mcpName": "io.github.me/weather"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("README.md"),
            "# Weather\n<!-- mcp-name: io.github.me/weather -->\n",
        )
        .unwrap();
        let r = ownership_rule(&doc, dir.path()).unwrap();
        assert!(r.ok(), "{r:?}");
        // A package published from elsewhere has nothing here to check.
        let other = serde_json::json!({"name": "io.github.me/weather", "packages": [
            {"registryType": "npm", "identifier": "@other/pkg", "version": "1.0.0", "transport": {"type": "stdio"}}
        ]});
        assert!(ownership_rule(&other, dir.path()).is_none());
    }
}
