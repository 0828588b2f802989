//! Version files: finding them, reading the version in each, and rewriting
//! only the version so comments, ordering and formatting survive.
//!
//! TOML files go through `toml_edit` (which keeps every byte it does not
//! change); JSON files are edited surgically in the text, because re-serialising
//! a `package-lock.json` would reformat thousands of lines. Projects whose
//! version is computed at build time (setuptools-scm, hatch-vcs, an `attr:`)
//! are recognised and the place the version really lives is reported.

use std::path::{Path, PathBuf};

use regex::Regex;
use runway_config::release::VersionFileConfig;
use serde::Serialize;

use crate::error::{ReleaseError, Result, line_col};

/// What kind of file, which decides how it is read and written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Kind {
    /// `[package].version` and `[workspace.package].version`.
    CargoToml,
    /// The `[[package]]` entries of these local crates.
    CargoLock {
        names: Vec<String>,
    },
    /// `[project].version` or `[tool.poetry].version`.
    Pyproject,
    /// The project's own `[[package]]` in `uv.lock` (`source = { editable = "." }`),
    /// which `uv lock --check` compares with `pyproject.toml`.
    UvLock {
        name: String,
    },
    PackageJson,
    /// The root `version` and `packages[""].version`.
    PackageLock,
    /// `__version__ = "..."` in a Python module.
    PythonModule,
    /// A file whose whole content is the version (`VERSION`).
    Plain,
    /// A user regex: the `version` group (or the first group) is the version.
    Regex {
        pattern: String,
    },
}

/// One place a version is written.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    /// Where in the file (`[package].version`).
    pub field: String,
    pub version: String,
    pub line: usize,
}

/// A file with one or more version locations.
#[derive(Debug, Clone, Serialize)]
pub struct VersionFile {
    /// Relative to the project root.
    pub path: PathBuf,
    #[serde(flatten)]
    pub kind: Kind,
    pub locations: Vec<Location>,
}

impl VersionFile {
    /// The version the file states (its first location).
    pub fn version(&self) -> &str {
        &self.locations[0].version
    }

    /// True for files Python tools read, where PEP 440 spelling is expected.
    pub fn is_python(&self) -> bool {
        matches!(
            self.kind,
            Kind::Pyproject | Kind::PythonModule | Kind::UvLock { .. }
        )
    }
}

/// A version that is not written in a file Runway should edit.
#[derive(Debug, Clone, Serialize)]
pub struct DynamicVersion {
    /// The file that declares it dynamic.
    pub declared_in: PathBuf,
    pub line: usize,
    /// Where the version really lives, for a human.
    pub lives_in: String,
    /// True when the git tag is the version (nothing to write).
    pub from_git_tags: bool,
}

/// Everything found in a project.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Detection {
    pub files: Vec<VersionFile>,
    pub dynamic: Vec<DynamicVersion>,
}

impl Detection {
    /// True when the version is only in git tags (setuptools-scm and friends).
    pub fn tag_is_version(&self) -> bool {
        self.files.is_empty() && self.dynamic.iter().any(|d| d.from_git_tags)
    }
}

fn read(root: &Path, rel: &Path) -> Result<String> {
    let path = root.join(rel);
    std::fs::read_to_string(&path).map_err(|source| ReleaseError::Read { path, source })
}

fn malformed(path: &Path, text: &str, offset: usize, message: impl Into<String>) -> ReleaseError {
    let (line, column) = line_col(text, offset);
    ReleaseError::Malformed {
        path: path.to_owned(),
        line,
        column,
        message: message.into(),
    }
}

fn parse_toml(path: &Path, text: &str) -> Result<toml_edit::Document<String>> {
    toml_edit::Document::parse(text.to_owned()).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        malformed(
            path,
            text,
            offset,
            e.message().lines().next().unwrap_or("invalid TOML"),
        )
    })
}

fn parse_json(path: &Path, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| ReleaseError::Malformed {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: format!("invalid JSON: {e}")
            .split(" at line ")
            .next()
            .unwrap_or("invalid JSON")
            .to_owned(),
    })
}

fn item_line(text: &str, item: &toml_edit::Item) -> usize {
    item.span().map_or(1, |s| line_col(text, s.start).0)
}

fn toml_str<'a>(table: &'a toml_edit::Table, key: &str) -> Option<(&'a str, &'a toml_edit::Item)> {
    let item = table.get(key)?;
    item.as_str().map(|s| (s, item))
}

fn table_at<'a>(table: &'a toml_edit::Table, path: &[&str]) -> Option<&'a toml_edit::Table> {
    let mut t = table;
    for key in path {
        t = t.get(key)?.as_table()?;
    }
    Some(t)
}

/// Reads the versions in `rel` as `kind`.
pub fn read_file(root: &Path, rel: &Path, kind: &Kind) -> Result<VersionFile> {
    let text = read(root, rel)?;
    let locations = read_locations(rel, &text, kind)?;
    if locations.is_empty() {
        return Err(ReleaseError::NoVersion {
            path: rel.to_owned(),
            message: match kind {
                Kind::Regex { pattern } => format!("the regex `{pattern}` does not match"),
                Kind::CargoLock { names } => {
                    format!(
                        "no `[[package]]` named `{}` without a `source`",
                        names.join("`, `")
                    )
                }
                Kind::UvLock { name } => {
                    format!(
                        "no `[[package]]` named `{name}` with `source = {{ editable = \".\" }}`"
                    )
                }
                _ => "no version found".to_owned(),
            },
        });
    }
    Ok(VersionFile {
        path: rel.to_owned(),
        kind: kind.clone(),
        locations,
    })
}

fn read_locations(rel: &Path, text: &str, kind: &Kind) -> Result<Vec<Location>> {
    let loc = |field: &str, version: &str, line: usize| Location {
        field: field.to_owned(),
        version: version.to_owned(),
        line,
    };
    let mut out = Vec::new();
    match kind {
        Kind::CargoToml => {
            let doc = parse_toml(rel, text)?;
            for (path, field) in [
                (&["package"][..], "[package].version"),
                (&["workspace", "package"][..], "[workspace.package].version"),
            ] {
                if let Some((v, item)) = table_at(&doc, path).and_then(|t| toml_str(t, "version")) {
                    out.push(loc(field, v, item_line(text, item)));
                }
            }
        }
        Kind::CargoLock { names } => {
            let doc = parse_toml(rel, text)?;
            if let Some(pkgs) = doc.get("package").and_then(|p| p.as_array_of_tables()) {
                for p in pkgs.iter() {
                    let name = p.get("name").and_then(|n| n.as_str()).unwrap_or("");
                    if p.contains_key("source") || !names.iter().any(|n| n == name) {
                        continue;
                    }
                    if let Some((v, item)) = toml_str(p, "version") {
                        out.push(loc(
                            &format!("[[package]] {name}"),
                            v,
                            item_line(text, item),
                        ));
                    }
                }
            }
        }
        Kind::UvLock { name } => {
            let doc = parse_toml(rel, text)?;
            if let Some(pkgs) = doc.get("package").and_then(|p| p.as_array_of_tables()) {
                for p in pkgs.iter().filter(|p| is_uv_root(p, name)) {
                    if let Some((v, item)) = toml_str(p, "version") {
                        out.push(loc(
                            &format!("[[package]] {name}"),
                            v,
                            item_line(text, item),
                        ));
                    }
                }
            }
        }
        Kind::Pyproject => {
            let doc = parse_toml(rel, text)?;
            for (path, field) in [
                (&["project"][..], "[project].version"),
                (&["tool", "poetry"][..], "[tool.poetry].version"),
            ] {
                if let Some((v, item)) = table_at(&doc, path).and_then(|t| toml_str(t, "version")) {
                    out.push(loc(field, v, item_line(text, item)));
                }
            }
        }
        Kind::PackageJson | Kind::PackageLock => {
            let value = parse_json(rel, text)?;
            let spans = json_string_spans(text);
            let mut paths: Vec<(Vec<&str>, &str)> = vec![(vec!["version"], "version")];
            if *kind == Kind::PackageLock {
                paths.push((vec!["packages", "", "version"], "packages[\"\"].version"));
            }
            for (p, field) in paths {
                let mut cur = &value;
                for k in &p {
                    cur = cur.get(k).unwrap_or(&serde_json::Value::Null);
                }
                if let Some(v) = cur.as_str()
                    && let Some((_, span)) = spans.iter().find(|(sp, _)| *sp == p)
                {
                    out.push(loc(field, v, line_col(text, span.start).0));
                }
            }
        }
        Kind::PythonModule => {
            if let Some(c) = python_version_re().captures(text) {
                let m = c.name("v").expect("group");
                out.push(loc("__version__", m.as_str(), line_col(text, m.start()).0));
            }
        }
        Kind::Plain => {
            let t = text.trim();
            if !t.is_empty() {
                let start = text.find(t).unwrap_or(0);
                out.push(loc("content", t, line_col(text, start).0));
            }
        }
        Kind::Regex { pattern } => {
            let re = user_regex(pattern)?;
            if let Some(m) = regex_version(&re, text) {
                out.push(loc(
                    &format!("/{pattern}/"),
                    m.as_str(),
                    line_col(text, m.start()).0,
                ));
            }
        }
    }
    Ok(out)
}

/// PEP 503 normalisation, which uv applies to names in its lock file.
fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_dash {
                out.push('-');
            }
            last_dash = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_dash = false;
        }
    }
    out
}

/// The project's own entry: its name, installed from the project directory itself.
fn is_uv_root(p: &toml_edit::Table, name: &str) -> bool {
    let named = p
        .get("name")
        .and_then(|n| n.as_str())
        .is_some_and(|n| normalize_python_name(n) == normalize_python_name(name));
    let local = p
        .get("source")
        .and_then(|s| s.as_table_like())
        .is_some_and(|s| {
            ["editable", "virtual"]
                .iter()
                .any(|k| s.get(k).and_then(|v| v.as_str()) == Some("."))
        });
    named && local
}

fn pyproject_name(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("pyproject.toml")).ok()?;
    let doc = toml_edit::Document::parse(text).ok()?;
    table_at(&doc, &["project"])
        .or_else(|| table_at(&doc, &["tool", "poetry"]))
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
}

fn python_version_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?m)^__version__\s*(?::\s*str\s*)?=\s*['"](?P<v>[^'"\n]+)['"]"#)
            .expect("static regex")
    })
}

fn user_regex(pattern: &str) -> Result<Regex> {
    let re = Regex::new(pattern).map_err(|e| {
        ReleaseError::Config(format!(
            "`release.files` regex `{pattern}` does not compile: {e}"
        ))
    })?;
    if re.captures_len() < 2 {
        return Err(ReleaseError::Config(format!(
            "`release.files` regex `{pattern}` needs a capture group (named `version` or the first group) around the version"
        )));
    }
    Ok(re)
}

fn regex_version<'t>(re: &Regex, text: &'t str) -> Option<regex::Match<'t>> {
    let c = re.captures(text)?;
    c.name("version").or_else(|| c.get(1))
}

/// Rewrites every version location of `file` in `text` to `new`, keeping all else.
pub fn write_version(file: &VersionFile, text: &str, new: &str) -> Result<String> {
    let rel = &file.path;
    match &file.kind {
        Kind::CargoToml | Kind::Pyproject | Kind::CargoLock { .. } | Kind::UvLock { .. } => {
            let mut doc: toml_edit::DocumentMut =
                text.parse().map_err(|e: toml_edit::TomlError| {
                    malformed(rel, text, e.span().map_or(0, |s| s.start), e.message())
                })?;
            match &file.kind {
                Kind::CargoToml => {
                    set_toml(doc.as_table_mut(), &["package"], new);
                    let workspace_version = doc
                        .get("workspace")
                        .and_then(|w| w.get("package"))
                        .and_then(|p| p.get("version"))
                        .is_some_and(|v| v.is_str());
                    set_toml(doc.as_table_mut(), &["workspace", "package"], new);
                    if workspace_version {
                        set_member_requirements(&mut doc, new);
                    }
                }
                Kind::Pyproject => {
                    set_toml(doc.as_table_mut(), &["project"], new);
                    set_toml(doc.as_table_mut(), &["tool", "poetry"], new);
                }
                Kind::UvLock { name } => {
                    if let Some(pkgs) = doc
                        .get_mut("package")
                        .and_then(|p| p.as_array_of_tables_mut())
                    {
                        for p in pkgs.iter_mut().filter(|p| is_uv_root(p, name)) {
                            set_value(p, new);
                        }
                    }
                }
                Kind::CargoLock { names } => {
                    if let Some(pkgs) = doc
                        .get_mut("package")
                        .and_then(|p| p.as_array_of_tables_mut())
                    {
                        for p in pkgs.iter_mut() {
                            let name = p.get("name").and_then(|n| n.as_str()).unwrap_or("");
                            if !p.contains_key("source") && names.iter().any(|n| n == name) {
                                set_value(p, new);
                            }
                        }
                    }
                }
                _ => {}
            }
            Ok(doc.to_string())
        }
        Kind::PackageJson | Kind::PackageLock => {
            let spans = json_string_spans(text);
            let mut targets: Vec<std::ops::Range<usize>> = spans
                .into_iter()
                .filter(|(p, _)| {
                    *p == ["version"]
                        || (file.kind == Kind::PackageLock && *p == ["packages", "", "version"])
                })
                .map(|(_, r)| r)
                .collect();
            targets.sort_by_key(|r| std::cmp::Reverse(r.start));
            let mut out = text.to_owned();
            for r in targets {
                out.replace_range(r, &json_escape(new));
            }
            Ok(out)
        }
        Kind::PythonModule => {
            let c = python_version_re()
                .captures(text)
                .ok_or_else(|| no_version(rel))?;
            Ok(splice(text, c.name("v").expect("group").range(), new))
        }
        Kind::Plain => {
            let t = text.trim();
            let start = text.find(t).unwrap_or(0);
            Ok(splice(text, start..start + t.len(), new))
        }
        Kind::Regex { pattern } => {
            let re = user_regex(pattern)?;
            let m = regex_version(&re, text).ok_or_else(|| no_version(rel))?;
            Ok(splice(text, m.range(), new))
        }
    }
}

fn no_version(rel: &Path) -> ReleaseError {
    ReleaseError::NoVersion {
        path: rel.to_owned(),
        message: "the version disappeared since it was read".into(),
    }
}

fn splice(text: &str, range: std::ops::Range<usize>, new: &str) -> String {
    let mut out = String::with_capacity(text.len() + new.len());
    out.push_str(&text[..range.start]);
    out.push_str(new);
    out.push_str(&text[range.end..]);
    out
}

fn json_escape(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn set_toml(root: &mut toml_edit::Table, path: &[&str], new: &str) {
    let mut t = root;
    for key in path {
        match t.get_mut(key).and_then(|i| i.as_table_mut()) {
            Some(next) => t = next,
            None => return,
        }
    }
    set_value(t, new);
}

/// Members depend on each other through `[workspace.dependencies]` entries
/// with a `path` and a `version` requirement; a requirement left at the old
/// version would stop the workspace from resolving after the bump.
fn set_member_requirements(doc: &mut toml_edit::DocumentMut, new: &str) {
    let Some(deps) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(|d| d.as_table_like_mut())
    else {
        return;
    };
    for (_, dep) in deps.iter_mut() {
        let Some(t) = dep.as_table_like_mut() else {
            continue;
        };
        if t.contains_key("path")
            && let Some(v) = t.get_mut("version").and_then(|v| v.as_value_mut())
            && v.is_str()
        {
            let decor = v.decor().clone();
            let mut nv = toml_edit::Value::from(new);
            *nv.decor_mut() = decor;
            *v = nv;
        }
    }
}

/// Replaces a string `version` value, keeping the spaces and comment around it.
fn set_value(t: &mut toml_edit::Table, new: &str) {
    if let Some(item) = t.get_mut("version")
        && let Some(v) = item.as_value_mut()
        && v.is_str()
    {
        let decor = v.decor().clone();
        let mut nv = toml_edit::Value::from(new);
        *nv.decor_mut() = decor;
        *v = nv;
    }
}

/// Byte ranges (quotes included) of every string value in a JSON text with its
/// key path, down to depth three; the text must already be valid JSON.
fn json_string_spans(text: &str) -> Vec<(Vec<&str>, std::ops::Range<usize>)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Frame {
        Object,
        Array,
    }
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut stack: Vec<(Frame, Option<&str>)> = Vec::new();
    let mut pending_key: Option<&str> = None;
    let mut expecting_key = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => {
                stack.push((Frame::Object, pending_key.take()));
                expecting_key = true;
            }
            b'[' => {
                stack.push((Frame::Array, pending_key.take()));
                expecting_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                pending_key = None;
                expecting_key = false;
            }
            b',' => {
                expecting_key = matches!(stack.last(), Some((Frame::Object, _)));
                pending_key = None;
            }
            b':' => expecting_key = false,
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = (i + 1).min(b.len());
                let inner = &text[start + 1..end.saturating_sub(1).max(start + 1)];
                if expecting_key {
                    pending_key = Some(inner);
                } else if stack.len() <= 3 && stack.iter().all(|(f, _)| *f == Frame::Object) {
                    if let Some(key) = pending_key.take() {
                        let mut path: Vec<&str> =
                            stack.iter().skip(1).filter_map(|(_, k)| *k).collect();
                        path.push(key);
                        out.push((path, start..end));
                    }
                } else {
                    pending_key = None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Reads the files named in `runway.toml`, or detects them when none are named.
pub fn load(root: &Path, configured: &[VersionFileConfig]) -> Result<Detection> {
    if configured.is_empty() {
        return detect(root);
    }
    let mut det = Detection::default();
    let cargo_names = cargo_package_names(root).unwrap_or_default();
    for f in configured {
        let rel = PathBuf::from(&f.path);
        let kind = match &f.regex {
            Some(pattern) => Kind::Regex {
                pattern: pattern.clone(),
            },
            None => kind_for(&rel, &cargo_names, pyproject_name(root).as_deref()).ok_or_else(|| {
                ReleaseError::Config(format!(
                    "`release.files`: cannot tell how to read `{}`; add `regex = '...'` with a group around the version",
                    f.path
                ))
            })?,
        };
        det.files.push(read_file(root, &rel, &kind)?);
    }
    Ok(det)
}

fn kind_for(rel: &Path, cargo_names: &[String], python_name: Option<&str>) -> Option<Kind> {
    let name = rel.file_name()?.to_str()?;
    Some(match name {
        "Cargo.toml" => Kind::CargoToml,
        "Cargo.lock" => Kind::CargoLock {
            names: cargo_names.to_vec(),
        },
        "pyproject.toml" => Kind::Pyproject,
        "uv.lock" => Kind::UvLock {
            name: python_name?.to_owned(),
        },
        "package.json" => Kind::PackageJson,
        "package-lock.json" => Kind::PackageLock,
        "VERSION" | "VERSION.txt" | "version.txt" => Kind::Plain,
        n if n.ends_with(".py") => Kind::PythonModule,
        _ => return None,
    })
}

/// Names of the crates whose version the root `Cargo.toml` decides.
fn cargo_package_names(root: &Path) -> Result<Vec<String>> {
    let rel = Path::new("Cargo.toml");
    if !root.join(rel).is_file() {
        return Ok(Vec::new());
    }
    let text = read(root, rel)?;
    let doc = parse_toml(rel, &text)?;
    let mut names = Vec::new();
    if let Some(p) = table_at(&doc, &["package"])
        && p.get("version").and_then(|v| v.as_str()).is_some()
        && let Some(n) = p.get("name").and_then(|n| n.as_str())
    {
        names.push(n.to_owned());
    }
    let ws_version = table_at(&doc, &["workspace", "package"])
        .and_then(|t| t.get("version"))
        .is_some();
    if ws_version
        && let Some(members) = table_at(&doc, &["workspace"])
            .and_then(|w| w.get("members"))
            .and_then(|m| m.as_array())
    {
        if let Some(p) = table_at(&doc, &["package"])
            && inherits_version(p)
            && let Some(n) = p.get("name").and_then(|n| n.as_str())
        {
            names.push(n.to_owned());
        }
        for m in members.iter().filter_map(|m| m.as_str()) {
            for dir in expand_member(root, m) {
                let manifest = dir.join("Cargo.toml");
                let Ok(t) = std::fs::read_to_string(&manifest) else {
                    continue;
                };
                let Ok(d) = toml_edit::Document::parse(t) else {
                    continue;
                };
                if let Some(p) = table_at(&d, &["package"])
                    && inherits_version(p)
                    && let Some(n) = p.get("name").and_then(|n| n.as_str())
                {
                    names.push(n.to_owned());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

fn inherits_version(p: &toml_edit::Table) -> bool {
    p.get("version")
        .and_then(|v| v.as_table_like())
        .and_then(|t| t.get("workspace"))
        .and_then(|w| w.as_bool())
        == Some(true)
}

/// `crates/*` → the directories it names; only a trailing `*` is supported,
/// which is what nearly every workspace uses.
fn expand_member(root: &Path, pattern: &str) -> Vec<PathBuf> {
    if let Some(prefix) = pattern.strip_suffix("/*") {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join(prefix))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .take(10_000)
            .collect();
        dirs.sort();
        dirs
    } else {
        vec![root.join(pattern)]
    }
}

/// Finds the version files of a project by looking at the usual places.
pub fn detect(root: &Path) -> Result<Detection> {
    let mut det = Detection::default();
    let exists = |p: &str| root.join(p).is_file();

    if exists("Cargo.toml") {
        let text = read(root, Path::new("Cargo.toml"))?;
        let locs = read_locations(Path::new("Cargo.toml"), &text, &Kind::CargoToml)?;
        if !locs.is_empty() {
            det.files.push(VersionFile {
                path: "Cargo.toml".into(),
                kind: Kind::CargoToml,
                locations: locs,
            });
            let names = cargo_package_names(root)?;
            if exists("Cargo.lock") && !names.is_empty() {
                let kind = Kind::CargoLock { names };
                if let Ok(f) = read_file(root, Path::new("Cargo.lock"), &kind) {
                    det.files.push(f);
                } else {
                    // A lock file without our entry is still read to surface syntax errors.
                    let text = read(root, Path::new("Cargo.lock"))?;
                    parse_toml(Path::new("Cargo.lock"), &text)?;
                }
            }
        }
    }

    if exists("pyproject.toml") {
        detect_pyproject(root, &mut det)?;
    }

    if exists("package.json") {
        let f = read_file(root, Path::new("package.json"), &Kind::PackageJson);
        match f {
            Ok(f) => {
                det.files.push(f);
                if exists("package-lock.json") {
                    det.files.push(read_file(
                        root,
                        Path::new("package-lock.json"),
                        &Kind::PackageLock,
                    )?);
                }
            }
            Err(ReleaseError::NoVersion { .. }) => {}
            Err(e) => return Err(e),
        }
    }

    if !det.files.iter().any(|f| f.kind == Kind::PythonModule) {
        for rel in python_module_candidates(root) {
            if let Ok(f) = read_file(root, &rel, &Kind::PythonModule) {
                det.files.push(f);
            }
        }
    }
    Ok(det)
}

/// `pkg/__init__.py`, `src/pkg/__init__.py` and their `__about__.py`/`_version.py`.
fn python_module_candidates(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for base in ["", "src"] {
        let dir = root.join(base);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut pkgs: Vec<PathBuf> = entries
            .flatten()
            .take(1000)
            .map(|e| e.path())
            .filter(|p| p.join("__init__.py").is_file())
            .collect();
        pkgs.sort();
        for pkg in pkgs {
            for file in ["__init__.py", "__about__.py", "_version.py", "version.py"] {
                let p = pkg.join(file);
                if p.is_file()
                    && let Ok(rel) = p.strip_prefix(root)
                {
                    out.push(rel.to_owned());
                }
            }
        }
    }
    out
}

fn detect_pyproject(root: &Path, det: &mut Detection) -> Result<()> {
    let rel = Path::new("pyproject.toml");
    let text = read(root, rel)?;
    let doc = parse_toml(rel, &text)?;
    let locs = read_locations(rel, &text, &Kind::Pyproject)?;
    if !locs.is_empty() {
        det.files.push(VersionFile {
            path: rel.into(),
            kind: Kind::Pyproject,
            locations: locs,
        });
        if root.join("uv.lock").is_file()
            && let Some(name) = pyproject_name(root)
        {
            let kind = Kind::UvLock { name };
            match read_file(root, Path::new("uv.lock"), &kind) {
                Ok(f) => det.files.push(f),
                // A lock without the project's own entry (a non-package project) has nothing to bump.
                Err(ReleaseError::NoVersion { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        return Ok(());
    }
    let project = table_at(&doc, &["project"]);
    let dynamic_item = project.and_then(|p| p.get("dynamic"));
    let is_dynamic = dynamic_item
        .and_then(|d| d.as_array())
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("version")));
    let version_table = project
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_table_like());
    let poetry_dynamic = table_at(&doc, &["tool", "poetry-dynamic-versioning"])
        .and_then(|t| t.get("enable"))
        .and_then(|e| e.as_bool())
        == Some(true);
    if !is_dynamic && version_table.is_none() && !poetry_dynamic {
        return Ok(());
    }
    let line = dynamic_item
        .or_else(|| project.and_then(|p| p.get("version")))
        .map_or(1, |i| item_line(&text, i));
    let mut dynamic = |lives_in: String, from_git_tags: bool| {
        det.dynamic.push(DynamicVersion {
            declared_in: rel.into(),
            line,
            lives_in,
            from_git_tags,
        })
    };

    let attr_spec = table_at(&doc, &["tool", "setuptools", "dynamic"])
        .and_then(|t| t.get("version"))
        .and_then(|v| v.as_table_like())
        .or(version_table);
    if let Some(spec) = attr_spec {
        if let Some(attr) = spec.get("attr").and_then(|a| a.as_str()) {
            let module = resolve_attr(root, attr);
            match module {
                Some(m) => {
                    dynamic(format!("`{}` (attr `{attr}`)", m.display()), false);
                    if let Ok(f) = read_file(root, &m, &Kind::PythonModule) {
                        det.files.push(f);
                    }
                }
                None => dynamic(format!("attr `{attr}` (module not found)"), false),
            }
            return Ok(());
        }
        if let Some(file) = spec.get("file").and_then(|f| f.as_str()) {
            dynamic(format!("`{file}`"), false);
            det.files
                .push(read_file(root, Path::new(file), &Kind::Plain)?);
            return Ok(());
        }
    }
    if let Some(hatch) = table_at(&doc, &["tool", "hatch", "version"]) {
        if let Some(path) = hatch.get("path").and_then(|p| p.as_str()) {
            dynamic(format!("`{path}` (hatch)"), false);
            det.files
                .push(read_file(root, Path::new(path), &Kind::PythonModule)?);
            return Ok(());
        }
        if hatch.get("source").and_then(|s| s.as_str()) == Some("vcs") {
            dynamic("git tags (hatch-vcs)".into(), true);
            return Ok(());
        }
    }
    let requires_scm = table_at(&doc, &["build-system"])
        .and_then(|b| b.get("requires"))
        .and_then(|r| r.as_array())
        .is_some_and(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .any(|s| s.contains("setuptools-scm") || s.contains("setuptools_scm"))
        });
    if table_at(&doc, &["tool", "setuptools_scm"]).is_some() || requires_scm {
        dynamic("git tags (setuptools-scm)".into(), true);
    } else if table_at(&doc, &["tool", "pdm", "version"])
        .and_then(|t| t.get("source"))
        .and_then(|s| s.as_str())
        == Some("scm")
    {
        dynamic("git tags (pdm scm)".into(), true);
    } else if poetry_dynamic {
        dynamic("git tags (poetry-dynamic-versioning)".into(), true);
    } else {
        dynamic(
            "unknown: `dynamic = [\"version\"]` without a known provider; name the file in `[release].files`".into(),
            false,
        );
    }
    Ok(())
}

/// `pkg.sub.__version__` → `pkg/sub.py` or `pkg/sub/__init__.py`, under `.` or `src/`.
fn resolve_attr(root: &Path, attr: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = attr.split('.').collect();
    let module = &parts[..parts.len().saturating_sub(1)];
    if module.is_empty() {
        return None;
    }
    let joined = module.join("/");
    for base in ["", "src/"] {
        for cand in [
            format!("{base}{joined}/__init__.py"),
            format!("{base}{joined}.py"),
        ] {
            if root.join(&cand).is_file() {
                return Some(PathBuf::from(cand));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn rewrite(root: &Path, f: &VersionFile, new: &str) -> String {
        let text = std::fs::read_to_string(root.join(&f.path)).unwrap();
        write_version(f, &text, new).unwrap()
    }

    #[test]
    fn cargo_toml_keeps_comments_and_edits_the_lock_entry_only() {
        let d = tempfile::tempdir().unwrap();
        let manifest = "# top comment\n[package]\nname = \"srv\"\nversion = \"0.3.1\"   # keep me\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"0.3.1\" }\n";
        write(d.path(), "Cargo.toml", manifest);
        let lock = "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"0.3.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"srv\"\nversion = \"0.3.1\"\ndependencies = [\n \"serde\",\n]\n";
        write(d.path(), "Cargo.lock", lock);
        let det = detect(d.path()).unwrap();
        assert_eq!(det.files.len(), 2);
        assert_eq!(det.files[0].version(), "0.3.1");
        assert_eq!(det.files[0].locations[0].line, 4);
        let out = rewrite(d.path(), &det.files[0], "0.4.0");
        assert_eq!(out, manifest.replacen("0.3.1\"   #", "0.4.0\"   #", 1));
        let out = rewrite(d.path(), &det.files[1], "0.4.0");
        assert!(
            out.contains("name = \"serde\"\nversion = \"0.3.1\""),
            "{out}"
        );
        assert!(out.contains("name = \"srv\"\nversion = \"0.4.0\""), "{out}");
        assert_eq!(out.len(), lock.len());
    }

    #[test]
    fn cargo_workspace_package_version_and_inheriting_members() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nversion = \"1.0.0\"\n",
        );
        write(
            d.path(),
            "crates/a/Cargo.toml",
            "[package]\nname = \"a\"\nversion.workspace = true\n",
        );
        write(
            d.path(),
            "Cargo.lock",
            "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n",
        );
        let det = detect(d.path()).unwrap();
        assert_eq!(
            det.files[0].locations[0].field,
            "[workspace.package].version"
        );
        assert_eq!(
            det.files[1].kind,
            Kind::CargoLock {
                names: vec!["a".into()]
            }
        );
        assert!(rewrite(d.path(), &det.files[0], "1.1.0").contains("version = \"1.1.0\""));
    }

    #[test]
    fn workspace_path_dependency_requirements_follow_the_workspace_version() {
        let d = tempfile::tempdir().unwrap();
        let text = "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"0.1.0\"\n\n[workspace.dependencies]\ncore = { path = \"crates/core\", version = \"0.1.0\" }\nserde = { version = \"0.1.0\" }\n";
        write(d.path(), "Cargo.toml", text);
        let det = detect(d.path()).unwrap();
        let out = rewrite(d.path(), &det.files[0], "0.2.0");
        assert!(
            out.contains("core = { path = \"crates/core\", version = \"0.2.0\" }"),
            "{out}"
        );
        assert!(out.contains("serde = { version = \"0.1.0\" }"), "{out}");
    }

    #[test]
    fn pyproject_project_and_poetry() {
        let d = tempfile::tempdir().unwrap();
        let text = "[project]\nname = \"hangar\"\n# the version\nversion = '0.9.0'\n\n[tool.poetry]\nversion = \"0.9.0\"\n";
        write(d.path(), "pyproject.toml", text);
        let det = detect(d.path()).unwrap();
        let f = &det.files[0];
        assert_eq!(f.locations.len(), 2);
        let out = rewrite(d.path(), f, "1.0.0rc1");
        assert!(
            out.contains("# the version\nversion = \"1.0.0rc1\"\n"),
            "{out}"
        );
        assert!(
            out.contains("[tool.poetry]\nversion = \"1.0.0rc1\""),
            "{out}"
        );
    }

    #[test]
    fn uv_lock_entry_of_the_project_follows_pyproject() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "pyproject.toml",
            "[project]\nname = \"MCP_Hangar\"\nversion = \"0.9.0\"\n",
        );
        let lock = "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"anyio\"\nversion = \"0.9.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"mcp-hangar\"\nversion = \"0.9.0\"\nsource = { editable = \".\" }\ndependencies = [\n    { name = \"anyio\" },\n]\n";
        write(d.path(), "uv.lock", lock);
        let det = detect(d.path()).unwrap();
        assert_eq!(det.files.len(), 2);
        assert_eq!(
            det.files[1].kind,
            Kind::UvLock {
                name: "MCP_Hangar".into()
            }
        );
        assert_eq!(det.files[1].locations[0].line, 11);
        let out = rewrite(d.path(), &det.files[1], "0.10.0");
        assert_eq!(
            out,
            lock.replacen(
                "version = \"0.9.0\"\nsource = { editable",
                "version = \"0.10.0\"\nsource = { editable",
                1
            )
        );
        let cfg = vec![VersionFileConfig {
            path: "uv.lock".into(),
            regex: None,
        }];
        assert_eq!(load(d.path(), &cfg).unwrap().files[0].version(), "0.9.0");
    }

    #[test]
    fn package_json_and_lock_are_edited_in_place() {
        let d = tempfile::tempdir().unwrap();
        let pkg = "{\n  \"name\": \"srv\",\n  \"version\": \"2.0.0\",\n  \"dependencies\": {\"x\": {\"version\": \"9\"}},\n    \"odd\":   [\"version\"]\n}\n";
        write(d.path(), "package.json", pkg);
        let lock = "{\n  \"name\": \"srv\",\n  \"version\": \"2.0.0\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\n      \"name\": \"srv\",\n      \"version\": \"2.0.0\"\n    },\n    \"node_modules/x\": {\n      \"version\": \"2.0.0\"\n    }\n  }\n}\n";
        write(d.path(), "package-lock.json", lock);
        let det = detect(d.path()).unwrap();
        assert_eq!(det.files.len(), 2);
        assert_eq!(det.files[0].locations[0].line, 3);
        let out = rewrite(d.path(), &det.files[0], "2.1.0");
        assert_eq!(out, pkg.replacen("2.0.0", "2.1.0", 1));
        assert_eq!(det.files[1].locations.len(), 2);
        let out = rewrite(d.path(), &det.files[1], "2.1.0");
        assert_eq!(out.matches("2.1.0").count(), 2, "{out}");
        assert!(out.contains("\"node_modules/x\": {\n      \"version\": \"2.0.0\""));
    }

    #[test]
    fn python_module_version_is_found_and_edited() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "src/hangar/__init__.py",
            "\"\"\"Hangar.\"\"\"\n\n__version__: str = \"0.2.0\"  # bumped by runway\n",
        );
        let det = detect(d.path()).unwrap();
        assert_eq!(det.files[0].path, PathBuf::from("src/hangar/__init__.py"));
        assert_eq!(det.files[0].locations[0].line, 3);
        let out = rewrite(d.path(), &det.files[0], "0.3.0");
        assert!(out.contains("__version__: str = \"0.3.0\"  # bumped by runway"));
    }

    #[test]
    fn setuptools_attr_points_at_the_module() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "pyproject.toml",
            "[project]\nname = \"p\"\ndynamic = [\"version\"]\n\n[tool.setuptools.dynamic]\nversion = {attr = \"pkg.__version__\"}\n",
        );
        write(d.path(), "src/pkg/__init__.py", "__version__ = '1.4.2'\n");
        let det = detect(d.path()).unwrap();
        assert_eq!(det.dynamic.len(), 1);
        assert!(det.dynamic[0].lives_in.contains("src/pkg/__init__.py"));
        assert_eq!(det.dynamic[0].line, 3);
        assert_eq!(det.files.len(), 1);
        assert_eq!(det.files[0].version(), "1.4.2");
    }

    #[test]
    fn scm_versions_live_in_git_tags() {
        for tool in [
            "[build-system]\nrequires = [\"setuptools>=64\", \"setuptools-scm>=8\"]\n",
            "[tool.hatch.version]\nsource = \"vcs\"\n",
        ] {
            let d = tempfile::tempdir().unwrap();
            write(
                d.path(),
                "pyproject.toml",
                &format!("[project]\nname = \"p\"\ndynamic = [\"version\"]\n\n{tool}"),
            );
            let det = detect(d.path()).unwrap();
            assert!(det.tag_is_version(), "{tool}: {det:?}");
            assert!(det.dynamic[0].lives_in.contains("git tags"));
        }
    }

    #[test]
    fn malformed_files_name_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "pyproject.toml",
            "[project]\nname = \"p\"\nversion = \"1.0\n",
        );
        let err = detect(d.path()).unwrap_err().to_string();
        assert!(err.starts_with("pyproject.toml:3:"), "{err}");

        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "package.json",
            "{\n  \"version\": \"1.0.0\",\n}\n",
        );
        let err = detect(d.path()).unwrap_err().to_string();
        assert!(err.starts_with("package.json:3:"), "{err}");
    }

    #[test]
    fn configured_regex_file() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "chart/Chart.yaml",
            "name: srv\nappVersion: \"1.2.3\"\n",
        );
        let cfg = vec![VersionFileConfig {
            path: "chart/Chart.yaml".into(),
            regex: Some(r#"appVersion: "(?P<version>[^"]+)""#.into()),
        }];
        let det = load(d.path(), &cfg).unwrap();
        assert_eq!(det.files[0].version(), "1.2.3");
        assert_eq!(det.files[0].locations[0].line, 2);
        let out = rewrite(d.path(), &det.files[0], "1.3.0");
        assert_eq!(out, "name: srv\nappVersion: \"1.3.0\"\n");

        let bad = vec![VersionFileConfig {
            path: "chart/Chart.yaml".into(),
            regex: Some("appVersion".into()),
        }];
        assert!(
            load(d.path(), &bad)
                .unwrap_err()
                .to_string()
                .contains("capture group")
        );
        let nomatch = vec![VersionFileConfig {
            path: "chart/Chart.yaml".into(),
            regex: Some("nope: (.*)".into()),
        }];
        assert!(
            load(d.path(), &nomatch)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
    }
}
