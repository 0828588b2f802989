//! `pyproject.toml`: `[project].version` and `[tool.poetry].version`, and the
//! dynamic versions (setuptools `attr`/`file`, hatch `path`/`vcs`/uv-dynamic-versioning,
//! setuptools-scm, pdm scm, poetry-dynamic-versioning), reported with the
//! place the version really lives.

use std::path::{Path, PathBuf};

use super::{
    Detection, DynamicVersion, Kind, Location, VersionFile, item_line, loc, parse_toml,
    parse_toml_mut, read as read_text, read_file, set_toml, table_at, toml_str,
};
use crate::error::{ReleaseError, Result};

pub(super) fn read(rel: &Path, text: &str) -> Result<Vec<Location>> {
    let doc = parse_toml(rel, text)?;
    let mut out = Vec::new();
    for (path, field) in [
        (&["project"][..], "[project].version"),
        (&["tool", "poetry"][..], "[tool.poetry].version"),
    ] {
        if let Some((v, item)) = table_at(&doc, path).and_then(|t| toml_str(t, "version")) {
            out.push(loc(field, v, item_line(text, item)));
        }
    }
    Ok(out)
}

pub(super) fn write(rel: &Path, text: &str, new: &str) -> Result<String> {
    let mut doc = parse_toml_mut(rel, text)?;
    set_toml(doc.as_table_mut(), &["project"], new);
    set_toml(doc.as_table_mut(), &["tool", "poetry"], new);
    Ok(doc.to_string())
}

/// The project's name, which `uv.lock` files its own entry under.
pub(super) fn project_name(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("pyproject.toml")).ok()?;
    let doc = toml_edit::Document::parse(text).ok()?;
    table_at(&doc, &["project"])
        .or_else(|| table_at(&doc, &["tool", "poetry"]))
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
}

/// `pyproject.toml`'s version, its `uv.lock` entry, or where a dynamic version lives.
pub(super) fn detect(root: &Path, det: &mut Detection) -> Result<()> {
    let rel = Path::new("pyproject.toml");
    let text = read_text(root, rel)?;
    let doc = parse_toml(rel, &text)?;
    let locs = read(rel, &text)?;
    if !locs.is_empty() {
        det.files.push(VersionFile {
            path: rel.into(),
            kind: Kind::Pyproject,
            locations: locs,
        });
        if root.join("uv.lock").is_file()
            && let Some(name) = project_name(root)
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
        match hatch.get("source").and_then(|s| s.as_str()) {
            Some("vcs") => {
                dynamic("git tags (hatch-vcs)".into(), true);
                return Ok(());
            }
            Some("uv-dynamic-versioning") => {
                dynamic("git tags (uv-dynamic-versioning)".into(), true);
                return Ok(());
            }
            _ => {}
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
    } else if table_at(&doc, &["tool", "uv-dynamic-versioning"]).is_some() {
        dynamic("git tags (uv-dynamic-versioning)".into(), true);
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
