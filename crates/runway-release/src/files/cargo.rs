//! `Cargo.toml` (`[package]` and `[workspace.package]` versions, and the
//! workspace's own path-dependency requirements) and the local `[[package]]`
//! entries of `Cargo.lock`.
//!
//! Workspace members are found with the `glob` crate, the same matcher Cargo
//! uses for `members`, and `exclude` is honoured as Cargo does (a path and
//! everything under it).

use std::path::{Path, PathBuf};

use super::{
    Detection, Kind, Location, VersionFile, item_line, loc, parse_toml, parse_toml_mut, read,
    read_file, set_toml, set_value, table_at, toml_str,
};
use crate::error::Result;

/// Upper bound on the member directories one `members` pattern may name.
const MAX_MEMBERS: usize = 10_000;

pub(super) fn read_manifest(rel: &Path, text: &str) -> Result<Vec<Location>> {
    let doc = parse_toml(rel, text)?;
    let mut out = Vec::new();
    for (path, field) in [
        (&["package"][..], "[package].version"),
        (&["workspace", "package"][..], "[workspace.package].version"),
    ] {
        if let Some((v, item)) = table_at(&doc, path).and_then(|t| toml_str(t, "version")) {
            out.push(loc(field, v, item_line(text, item)));
        }
    }
    Ok(out)
}

pub(super) fn read_lock(rel: &Path, text: &str, names: &[String]) -> Result<Vec<Location>> {
    let doc = parse_toml(rel, text)?;
    let mut out = Vec::new();
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
    Ok(out)
}

pub(super) fn write_manifest(rel: &Path, text: &str, new: &str) -> Result<String> {
    let mut doc = parse_toml_mut(rel, text)?;
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
    Ok(doc.to_string())
}

pub(super) fn write_lock(rel: &Path, text: &str, names: &[String], new: &str) -> Result<String> {
    let mut doc = parse_toml_mut(rel, text)?;
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
    Ok(doc.to_string())
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

/// Names of the crates whose version the root `Cargo.toml` decides.
pub(super) fn package_names(root: &Path) -> Result<Vec<String>> {
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
    if ws_version && let Some(workspace) = table_at(&doc, &["workspace"]) {
        if let Some(p) = table_at(&doc, &["package"])
            && inherits_version(p)
            && let Some(n) = p.get("name").and_then(|n| n.as_str())
        {
            names.push(n.to_owned());
        }
        for dir in members(root, workspace) {
            let Ok(t) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
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

fn strings<'a>(t: &'a toml_edit::Table, key: &str) -> Vec<&'a str> {
    t.get(key)
        .and_then(|m| m.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default()
}

/// The member directories of `[workspace]`: every `members` glob expanded,
/// minus the `exclude` paths and everything under them, sorted.
fn members(root: &Path, workspace: &toml_edit::Table) -> Vec<PathBuf> {
    let exclude: Vec<PathBuf> = strings(workspace, "exclude")
        .into_iter()
        .map(|e| normal(&root.join(e)))
        .collect();
    let mut dirs = Vec::new();
    for pattern in strings(workspace, "members") {
        let full = root.join(pattern);
        let Some(full) = full.to_str() else { continue };
        // A pattern that is not a valid glob names one directory, as Cargo reads it.
        let found: Vec<PathBuf> = match glob::glob(full) {
            Ok(paths) => paths.flatten().take(MAX_MEMBERS).collect(),
            Err(_) => vec![PathBuf::from(full)],
        };
        dirs.extend(
            found
                .into_iter()
                .map(|p| normal(&p))
                .filter(|p| p.is_dir() && !exclude.iter().any(|e| p.starts_with(e))),
        );
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// `Cargo.toml` with a version, and the lock entries of the crates it decides.
/// A virtual workspace (no version at the root) is released through its
/// members' own versions; with a workspace version, members that keep their
/// own are named in a note, since they do not move with it.
pub(super) fn detect(root: &Path, det: &mut Detection) -> Result<()> {
    let rel = Path::new("Cargo.toml");
    let text = read(root, rel)?;
    let locs = read_manifest(rel, &text)?;
    let doc = parse_toml(rel, &text)?;
    let own = own_version_members(root, &doc);
    let mut names = package_names(root)?;
    if locs.is_empty() {
        if own.is_empty() {
            return Ok(());
        }
        for (_, name, f) in own {
            det.files.push(f);
            names.push(name);
        }
        names.sort();
        names.dedup();
    } else {
        det.files.push(VersionFile {
            path: rel.into(),
            kind: Kind::CargoToml,
            locations: locs,
        });
        for (path, _, f) in &own {
            det.notes.push(format!(
                "`{}` keeps its own version `{}`: it is not bumped with the workspace; list it in `[[release.files]]` to bump it too",
                path.display(),
                f.version()
            ));
        }
    }
    if root.join("Cargo.lock").is_file() && !names.is_empty() {
        let kind = Kind::CargoLock { names };
        if let Ok(f) = read_file(root, Path::new("Cargo.lock"), &kind) {
            det.files.push(f);
        } else {
            // A lock file without our entry is still read to surface syntax errors.
            let text = read(root, Path::new("Cargo.lock"))?;
            parse_toml(Path::new("Cargo.lock"), &text)?;
        }
    }
    Ok(())
}

/// Workspace members whose `[package]` states a version of its own (not
/// `version.workspace = true`): their manifest, crate name and version file.
fn own_version_members(
    root: &Path,
    doc: &toml_edit::Document<String>,
) -> Vec<(PathBuf, String, VersionFile)> {
    let Some(workspace) = table_at(doc, &["workspace"]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dir in members(root, workspace) {
        let Ok(rel) = dir
            .join("Cargo.toml")
            .strip_prefix(normal(root))
            .map(Path::to_path_buf)
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else {
            continue;
        };
        let Ok(d) = toml_edit::Document::parse(text.clone()) else {
            continue;
        };
        let Some(p) = table_at(&d, &["package"]) else {
            continue;
        };
        let Some(name) = p.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        if let Ok(locs) = read_manifest(&rel, &text)
            && !locs.is_empty()
        {
            out.push((
                rel.clone(),
                name.to_owned(),
                VersionFile {
                    path: rel,
                    kind: Kind::CargoToml,
                    locations: locs,
                },
            ));
        }
    }
    out
}
