//! Version files: finding them, reading the version in each, and rewriting
//! only the version so comments, ordering and formatting survive.
//!
//! One module per kind of file: `cargo` (`Cargo.toml`, `Cargo.lock`),
//! `pyproject` (with the dynamic-version providers), `uv_lock`, `json`
//! (`package.json`, `package-lock.json`), `python_module` (`__version__`) and
//! `plain` (`VERSION` files and user regexes). This module holds the types,
//! the shared TOML helpers, and `load`/`detect`, which decide the kinds.
//!
//! TOML files go through `toml_edit` (which keeps every byte it does not
//! change); JSON files are edited surgically in the text, because re-serialising
//! a `package-lock.json` would reformat thousands of lines. Projects whose
//! version is computed at build time (setuptools-scm, hatch-vcs, an `attr:`)
//! are recognised and the place the version really lives is reported.

use std::path::{Path, PathBuf};

use runway_config::release::VersionFileConfig;
use serde::Serialize;

use crate::error::{ReleaseError, Result, line_col};

mod cargo;
mod json;
mod plain;
mod pyproject;
mod python_module;
pub mod scan;
mod uv_lock;

#[cfg(test)]
mod tests;

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
    /// The MCP Registry's `server.json`: `version` and every `packages[].version`.
    ServerJson,
    /// A JSON file whose version fields `runway.toml` names by path.
    Json {
        fields: Vec<String>,
    },
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
    /// What the user should know about what was found (or left out).
    pub notes: Vec<String>,
}

impl Detection {
    /// True when the version is only in git tags (setuptools-scm and friends).
    pub fn tag_is_version(&self) -> bool {
        self.files.is_empty() && self.dynamic.iter().any(|d| d.from_git_tags)
    }
}

pub(crate) fn read(root: &Path, rel: &Path) -> Result<String> {
    let path = root.join(rel);
    std::fs::read_to_string(&path).map_err(|source| ReleaseError::Read { path, source })
}

pub(crate) fn malformed(
    path: &Path,
    text: &str,
    offset: usize,
    message: impl Into<String>,
) -> ReleaseError {
    let (line, column) = line_col(text, offset);
    ReleaseError::Malformed {
        path: path.to_owned(),
        line,
        column,
        message: message.into(),
    }
}

pub(crate) fn parse_toml(path: &Path, text: &str) -> Result<toml_edit::Document<String>> {
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

pub(crate) fn parse_json(path: &Path, text: &str) -> Result<serde_json::Value> {
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

pub(crate) fn item_line(text: &str, item: &toml_edit::Item) -> usize {
    item.span().map_or(1, |s| line_col(text, s.start).0)
}

pub(crate) fn toml_str<'a>(
    table: &'a toml_edit::Table,
    key: &str,
) -> Option<(&'a str, &'a toml_edit::Item)> {
    let item = table.get(key)?;
    item.as_str().map(|s| (s, item))
}

pub(crate) fn table_at<'a>(
    table: &'a toml_edit::Table,
    path: &[&str],
) -> Option<&'a toml_edit::Table> {
    let mut t = table;
    for key in path {
        t = t.get(key)?.as_table()?;
    }
    Some(t)
}

/// A `version` location found in a file.
pub(crate) fn loc(field: &str, version: &str, line: usize) -> Location {
    Location {
        field: field.to_owned(),
        version: version.to_owned(),
        line,
    }
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
    match kind {
        Kind::CargoToml => cargo::read_manifest(rel, text),
        Kind::CargoLock { names } => cargo::read_lock(rel, text, names),
        Kind::UvLock { name } => uv_lock::read(rel, text, name),
        Kind::Pyproject => pyproject::read(rel, text),
        Kind::PackageJson | Kind::PackageLock | Kind::ServerJson | Kind::Json { .. } => {
            json::read(rel, text, kind)
        }
        Kind::PythonModule => Ok(python_module::read(text)),
        Kind::Plain => Ok(plain::read(text)),
        Kind::Regex { pattern } => plain::read_regex(text, pattern),
    }
}

/// Rewrites every version location of `file` in `text` to `new`, keeping all else.
pub fn write_version(file: &VersionFile, text: &str, new: &str) -> Result<String> {
    let rel = &file.path;
    match &file.kind {
        Kind::CargoToml => cargo::write_manifest(rel, text, new),
        Kind::CargoLock { names } => cargo::write_lock(rel, text, names, new),
        Kind::UvLock { name } => uv_lock::write(rel, text, name, new),
        Kind::Pyproject => pyproject::write(rel, text, new),
        Kind::PackageJson | Kind::PackageLock | Kind::ServerJson | Kind::Json { .. } => {
            json::write(rel, text, &file.kind, new)
        }
        Kind::PythonModule => python_module::write(rel, text, new),
        Kind::Plain => Ok(plain::write(text, new)),
        Kind::Regex { pattern } => plain::write_regex(rel, text, pattern, new),
    }
}

pub(crate) fn no_version(rel: &Path) -> ReleaseError {
    ReleaseError::NoVersion {
        path: rel.to_owned(),
        message: "the version disappeared since it was read".into(),
    }
}

pub(crate) fn splice(text: &str, range: std::ops::Range<usize>, new: &str) -> String {
    let mut out = String::with_capacity(text.len() + new.len());
    out.push_str(&text[..range.start]);
    out.push_str(new);
    out.push_str(&text[range.end..]);
    out
}

/// Parses a TOML file for editing, with `path:line:column` on failure.
pub(crate) fn parse_toml_mut(rel: &Path, text: &str) -> Result<toml_edit::DocumentMut> {
    text.parse().map_err(|e: toml_edit::TomlError| {
        malformed(rel, text, e.span().map_or(0, |s| s.start), e.message())
    })
}

/// Replaces the string `version` value of the table at `path`, if there is one.
pub(crate) fn set_toml(root: &mut toml_edit::Table, path: &[&str], new: &str) {
    let mut t = root;
    for key in path {
        match t.get_mut(key).and_then(|i| i.as_table_mut()) {
            Some(next) => t = next,
            None => return,
        }
    }
    set_value(t, new);
}

/// Replaces a string `version` value, keeping the spaces and comment around it.
pub(crate) fn set_value(t: &mut toml_edit::Table, new: &str) {
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

/// Reads the files named in `runway.toml`, or detects them when none are named.
pub fn load(root: &Path, configured: &[VersionFileConfig]) -> Result<Detection> {
    load_except(root, configured, &[])
}

/// [`load`], leaving out the detected files `exclude` names (`[release].exclude`).
/// An `exclude` entry that names no detected file is an error: a typo would
/// otherwise leave the file it meant to be bumped.
pub fn load_except(
    root: &Path,
    configured: &[VersionFileConfig],
    exclude: &[String],
) -> Result<Detection> {
    let mut det = load_named(root, configured)?;
    for e in exclude {
        let path = Path::new(e.trim_start_matches("./"));
        let before = det.files.len();
        det.files.retain(|f| f.path != path);
        if det.files.len() == before {
            let found: Vec<String> = det
                .files
                .iter()
                .map(|f| format!("`{}`", f.path.display()))
                .collect();
            return Err(ReleaseError::Config(format!(
                "`release.exclude` names `{e}`, which is not a version file Runway found (found: {})",
                if found.is_empty() {
                    "none".to_owned()
                } else {
                    found.join(", ")
                }
            )));
        }
    }
    Ok(det)
}

fn load_named(root: &Path, configured: &[VersionFileConfig]) -> Result<Detection> {
    if configured.is_empty() {
        return detect(root);
    }
    let mut det = Detection::default();
    let cargo_names = cargo::package_names(root).unwrap_or_default();
    for f in configured {
        let rel = PathBuf::from(&f.path);
        let kind = match (&f.regex, &f.fields) {
            (Some(pattern), _) => Kind::Regex {
                pattern: pattern.clone(),
            },
            (None, Some(fields)) => Kind::Json {
                fields: fields.clone(),
            },
            (None, None) => kind_for(&rel, &cargo_names, pyproject::project_name(root).as_deref()).ok_or_else(|| {
                ReleaseError::Config(format!(
                    "`release.files`: cannot tell how to read `{}`; add `regex = '...'` with a group around the version, or `fields = [\"$.version\"]` for JSON",
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
        "server.json" => Kind::ServerJson,
        "VERSION" | "VERSION.txt" | "version.txt" => Kind::Plain,
        n if n.ends_with(".py") => Kind::PythonModule,
        _ => return None,
    })
}

/// Finds the version files of a project by looking at the usual places.
pub fn detect(root: &Path) -> Result<Detection> {
    let mut det = Detection::default();
    let exists = |p: &str| root.join(p).is_file();

    if exists("Cargo.toml") {
        cargo::detect(root, &mut det)?;
    }

    if exists("pyproject.toml") {
        pyproject::detect(root, &mut det)?;
    }

    json::detect(root, &mut det)?;

    for name in ["VERSION", "VERSION.txt", "version.txt"] {
        if det.files.is_empty()
            && exists(name)
            && let Ok(f) = read_file(root, Path::new(name), &Kind::Plain)
        {
            det.files.push(f);
        }
    }

    if !det.files.iter().any(|f| f.kind == Kind::PythonModule) {
        for rel in python_module::candidates(root) {
            if let Ok(f) = read_file(root, &rel, &Kind::PythonModule) {
                det.files.push(f);
            }
        }
    }
    Ok(det)
}
