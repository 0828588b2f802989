//! The project's own `[[package]]` entry in `uv.lock` (its name, with
//! `source = { editable = "." }` or `virtual = "."`), which `uv lock --check`
//! compares with `pyproject.toml`; every other entry is left alone.

use std::path::Path;

use super::{Location, item_line, loc, parse_toml, parse_toml_mut, set_value, toml_str};
use crate::error::Result;

pub(super) fn read(rel: &Path, text: &str, name: &str) -> Result<Vec<Location>> {
    let doc = parse_toml(rel, text)?;
    let mut out = Vec::new();
    if let Some(pkgs) = doc.get("package").and_then(|p| p.as_array_of_tables()) {
        for p in pkgs.iter().filter(|p| is_root(p, name)) {
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

pub(super) fn write(rel: &Path, text: &str, name: &str, new: &str) -> Result<String> {
    let mut doc = parse_toml_mut(rel, text)?;
    if let Some(pkgs) = doc
        .get_mut("package")
        .and_then(|p| p.as_array_of_tables_mut())
    {
        for p in pkgs.iter_mut().filter(|p| is_root(p, name)) {
            set_value(p, new);
        }
    }
    Ok(doc.to_string())
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
fn is_root(p: &toml_edit::Table, name: &str) -> bool {
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
