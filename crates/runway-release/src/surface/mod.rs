//! The tool surface as part of the version: comparing the surface of the last
//! release with the current one names every change and the bump it requires.
//!
//! A client of an MCP server breaks when a tool it calls disappears, when a
//! call it makes stops validating (a new required parameter, a narrowed type
//! or enum, a removed parameter) or when a result field it reads disappears
//! or changes type. Additions are features. The capture itself lives in
//! runway-verify; the binary passes its result here.

use std::collections::BTreeSet;
use std::path::Path;

use runway_core::{ToolSignature, ToolSurface};
use serde::Serialize;
use serde_json::Value;

use crate::error::{ReleaseError, Result};
use crate::version::Level;

/// One difference between two surfaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurfaceChange {
    pub tool: String,
    /// What changed, e.g. `input.query` or `output.items`.
    pub path: String,
    pub kind: ChangeKind,
    /// Human description with the old and new values.
    pub detail: String,
    /// The bump this change requires on a 1.x+ version.
    pub required: Level,
}

impl SurfaceChange {
    pub fn breaking(&self) -> bool {
        self.required == Level::Major
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    ToolRemoved,
    ToolAdded,
    ParameterRemoved,
    RequiredParameterAdded,
    OptionalParameterAdded,
    ParameterNowRequired,
    ParameterNowOptional,
    TypeNarrowed,
    TypeWidened,
    TypeChanged,
    EnumNarrowed,
    EnumWidened,
    OutputFieldRemoved,
    OutputFieldAdded,
    OutputSchemaRemoved,
    OutputSchemaAdded,
    OutputTypeChanged,
    DescriptionChanged,
}

/// Every change, and the biggest bump they require.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SurfaceDiff {
    pub changes: Vec<SurfaceChange>,
}

impl SurfaceDiff {
    /// The bump the surface requires on a 1.x+ version; `None` when nothing changed.
    pub fn required(&self) -> Option<Level> {
        self.changes.iter().map(|c| c.required).max()
    }

    /// The bump required from `current`, with the pre-1.0 rule (breaking → minor).
    pub fn required_for(&self, current: &semver::Version, minor_pre_major: bool) -> Option<Level> {
        self.required().map(|l| {
            if current.major == 0 && l == Level::Major && minor_pre_major {
                Level::Minor
            } else {
                l
            }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The first change that requires [`SurfaceDiff::required`] (for "decided by").
    pub fn decisive(&self) -> Option<&SurfaceChange> {
        let r = self.required()?;
        self.changes.iter().find(|c| c.required == r)
    }
}

/// Compares the surface of the last release (`old`) with the current one (`new`).
pub fn compare_surfaces(old: &ToolSurface, new: &ToolSurface) -> SurfaceDiff {
    let mut changes = Vec::new();
    for o in &old.tools {
        match new.tool(&o.name) {
            None => changes.push(SurfaceChange {
                tool: o.name.clone(),
                path: String::new(),
                kind: ChangeKind::ToolRemoved,
                detail: format!("tool `{}` was removed", o.name),
                required: Level::Major,
            }),
            Some(n) => compare_tool(o, n, &mut changes),
        }
    }
    for n in &new.tools {
        if old.tool(&n.name).is_none() {
            changes.push(SurfaceChange {
                tool: n.name.clone(),
                path: String::new(),
                kind: ChangeKind::ToolAdded,
                detail: format!("tool `{}` was added", n.name),
                required: Level::Minor,
            });
        }
    }
    SurfaceDiff { changes }
}

/// Deep enough for any real schema, shallow enough that a cyclic-looking one ends.
const MAX_DEPTH: usize = 32;

struct Cx<'a> {
    tool: &'a str,
    out: &'a mut Vec<SurfaceChange>,
}

impl Cx<'_> {
    fn push(&mut self, path: &str, kind: ChangeKind, detail: String, required: Level) {
        self.out.push(SurfaceChange {
            tool: self.tool.to_owned(),
            path: path.to_owned(),
            kind,
            detail,
            required,
        });
    }
}

fn compare_tool(o: &ToolSignature, n: &ToolSignature, out: &mut Vec<SurfaceChange>) {
    let mut cx = Cx { tool: &o.name, out };
    compare_input(&mut cx, "input", &o.input_schema, &n.input_schema, 0);
    match (&o.output_schema, &n.output_schema) {
        (Some(os), Some(ns)) => compare_output(&mut cx, "output", os, ns, 0),
        (Some(_), None) => cx.push(
            "output",
            ChangeKind::OutputSchemaRemoved,
            format!("tool `{}` no longer declares an output schema", o.name),
            Level::Major,
        ),
        (None, Some(_)) => cx.push(
            "output",
            ChangeKind::OutputSchemaAdded,
            format!("tool `{}` now declares an output schema", o.name),
            Level::Minor,
        ),
        (None, None) => {}
    }
    if o.description != n.description {
        cx.push(
            "description",
            ChangeKind::DescriptionChanged,
            format!("the description of tool `{}` changed", o.name),
            Level::Patch,
        );
    }
}

fn props(schema: &Value) -> Option<&serde_json::Map<String, Value>> {
    schema.get("properties").and_then(Value::as_object)
}

fn required_set(schema: &Value) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The JSON types a schema accepts; `None` means "any" (no `type` keyword).
fn types(schema: &Value) -> Option<BTreeSet<String>> {
    let mut set: BTreeSet<String> = match schema.get("type")? {
        Value::String(s) => std::iter::once(s.clone()).collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => return None,
    };
    // Every integer is a number: `number` → `integer` narrows, the reverse widens.
    if set.contains("number") {
        set.insert("integer".into());
    }
    Some(set)
}

fn enum_set(schema: &Value) -> Option<BTreeSet<String>> {
    schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(Value::to_string).collect())
}

fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

fn fmt_types(t: &Option<BTreeSet<String>>) -> String {
    match t {
        None => "any".into(),
        Some(s) => s.iter().cloned().collect::<Vec<_>>().join("|"),
    }
}

/// Accepting less than before breaks callers; accepting more is a feature.
fn compare_input(cx: &mut Cx<'_>, path: &str, o: &Value, n: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let (ot, nt) = (types(o), types(n));
    if ot != nt {
        let (kind, level) = match (&ot, &nt) {
            (None, Some(_)) => (ChangeKind::TypeNarrowed, Level::Major),
            (Some(_), None) => (ChangeKind::TypeWidened, Level::Minor),
            (Some(a), Some(b)) if b.is_subset(a) => (ChangeKind::TypeNarrowed, Level::Major),
            (Some(a), Some(b)) if a.is_subset(b) => (ChangeKind::TypeWidened, Level::Minor),
            _ => (ChangeKind::TypeChanged, Level::Major),
        };
        cx.push(
            path,
            kind,
            format!("`{path}` type {} → {}", fmt_types(&ot), fmt_types(&nt)),
            level,
        );
    }
    match (enum_set(o), enum_set(n)) {
        (None, Some(_)) => cx.push(
            path,
            ChangeKind::EnumNarrowed,
            format!("`{path}` is now restricted to an enum"),
            Level::Major,
        ),
        (Some(_), None) => cx.push(
            path,
            ChangeKind::EnumWidened,
            format!("`{path}` is no longer restricted to an enum"),
            Level::Minor,
        ),
        (Some(a), Some(b)) => {
            let removed: Vec<&String> = a.difference(&b).collect();
            let added: Vec<&String> = b.difference(&a).collect();
            if !removed.is_empty() {
                cx.push(
                    path,
                    ChangeKind::EnumNarrowed,
                    format!("`{path}` no longer accepts {}", list(&removed)),
                    Level::Major,
                );
            }
            if !added.is_empty() {
                cx.push(
                    path,
                    ChangeKind::EnumWidened,
                    format!("`{path}` now accepts {}", list(&added)),
                    Level::Minor,
                );
            }
        }
        (None, None) => {}
    }
    let (op, np) = (props(o), props(n));
    let (oreq, nreq) = (required_set(o), required_set(n));
    let empty = serde_json::Map::new();
    let (op, np) = (op.unwrap_or(&empty), np.unwrap_or(&empty));
    for (k, ov) in op {
        let p = join(path, k);
        match np.get(k) {
            None => cx.push(
                &p,
                ChangeKind::ParameterRemoved,
                format!("parameter `{p}` was removed"),
                Level::Major,
            ),
            Some(nv) => {
                match (oreq.contains(k), nreq.contains(k)) {
                    (false, true) => cx.push(
                        &p,
                        ChangeKind::ParameterNowRequired,
                        format!("parameter `{p}` is now required"),
                        Level::Major,
                    ),
                    (true, false) => cx.push(
                        &p,
                        ChangeKind::ParameterNowOptional,
                        format!("parameter `{p}` is now optional"),
                        Level::Minor,
                    ),
                    _ => {}
                }
                compare_input(cx, &p, ov, nv, depth + 1);
            }
        }
    }
    for k in np.keys().filter(|k| !op.contains_key(*k)) {
        let p = join(path, k);
        if nreq.contains(k) {
            cx.push(
                &p,
                ChangeKind::RequiredParameterAdded,
                format!("new required parameter `{p}`"),
                Level::Major,
            );
        } else {
            cx.push(
                &p,
                ChangeKind::OptionalParameterAdded,
                format!("new optional parameter `{p}`"),
                Level::Minor,
            );
        }
    }
    if let (Some(oi), Some(ni)) = (o.get("items"), n.get("items")) {
        compare_input(cx, &format!("{path}[]"), oi, ni, depth + 1);
    }
}

/// Returning less than before (a field a client reads) breaks it; returning more is a feature.
fn compare_output(cx: &mut Cx<'_>, path: &str, o: &Value, n: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let (ot, nt) = (types(o), types(n));
    if ot != nt {
        let narrowed = matches!((&ot, &nt), (Some(a), Some(b)) if b.is_subset(a))
            || (ot.is_none() && nt.is_some());
        cx.push(
            path,
            ChangeKind::OutputTypeChanged,
            format!("`{path}` type {} → {}", fmt_types(&ot), fmt_types(&nt)),
            if narrowed { Level::Minor } else { Level::Major },
        );
    }
    let empty = serde_json::Map::new();
    let (op, np) = (props(o).unwrap_or(&empty), props(n).unwrap_or(&empty));
    let (oreq, nreq) = (required_set(o), required_set(n));
    for (k, ov) in op {
        let p = join(path, k);
        match np.get(k) {
            None => cx.push(
                &p,
                ChangeKind::OutputFieldRemoved,
                format!("result field `{p}` was removed"),
                Level::Major,
            ),
            Some(nv) => {
                if oreq.contains(k) && !nreq.contains(k) {
                    cx.push(
                        &p,
                        ChangeKind::OutputFieldRemoved,
                        format!("result field `{p}` may now be missing"),
                        Level::Major,
                    );
                }
                compare_output(cx, &p, ov, nv, depth + 1);
            }
        }
    }
    for k in np.keys().filter(|k| !op.contains_key(*k)) {
        let p = join(path, k);
        cx.push(
            &p,
            ChangeKind::OutputFieldAdded,
            format!("new result field `{p}`"),
            Level::Minor,
        );
    }
    if let (Some(oi), Some(ni)) = (o.get("items"), n.get("items")) {
        compare_output(cx, &format!("{path}[]"), oi, ni, depth + 1);
    }
}

fn list(values: &[&String]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the committed surface file; `Ok(None)` when there is none yet.
pub fn read_surface(path: &Path) -> Result<Option<ToolSurface>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ReleaseError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ReleaseError::Malformed {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: format!("not a tool surface: {e}")
                .split(" at line ")
                .next()
                .unwrap_or("not a tool surface")
                .to_owned(),
        })
}

/// The committed form: tools sorted by name, two-space JSON, final newline.
pub fn render_surface(surface: &ToolSurface) -> String {
    let mut s = surface.clone();
    s.tools.sort_by(|a, b| a.name.cmp(&b.name));
    let mut text = serde_json::to_string_pretty(&s).unwrap_or_else(|_| "{\"tools\":[]}".into());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
