//! `package.json` (`version`) and `package-lock.json` (the root `version` and
//! `packages[""].version`), edited in the text: re-serialising a lock file
//! would reformat thousands of lines.

use std::path::Path;

use super::{Detection, Kind, Location, line_col, loc, parse_json, read_file};
use crate::error::{ReleaseError, Result};

/// The key paths of the versions in a `package.json`, or in its lock file.
fn paths(lock: bool) -> Vec<(Vec<&'static str>, &'static str)> {
    let mut paths = vec![(vec!["version"], "version")];
    if lock {
        paths.push((vec!["packages", "", "version"], "packages[\"\"].version"));
    }
    paths
}

pub(super) fn read(rel: &Path, text: &str, lock: bool) -> Result<Vec<Location>> {
    let value = parse_json(rel, text)?;
    let spans = json_string_spans(text);
    let mut out = Vec::new();
    for (p, field) in paths(lock) {
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
    Ok(out)
}

pub(super) fn write(text: &str, lock: bool, new: &str) -> String {
    let wanted = paths(lock);
    let mut targets: Vec<std::ops::Range<usize>> = json_string_spans(text)
        .into_iter()
        .filter(|(p, _)| wanted.iter().any(|(w, _)| w == p))
        .map(|(_, r)| r)
        .collect();
    targets.sort_by_key(|r| std::cmp::Reverse(r.start));
    let mut out = text.to_owned();
    for r in targets {
        out.replace_range(r, &json_escape(new));
    }
    out
}

fn json_escape(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// `package.json` with a version, and its lock file.
pub(super) fn detect(root: &Path, det: &mut Detection) -> Result<()> {
    match read_file(root, Path::new("package.json"), &Kind::PackageJson) {
        Ok(f) => {
            det.files.push(f);
            if root.join("package-lock.json").is_file() {
                det.files.push(read_file(
                    root,
                    Path::new("package-lock.json"),
                    &Kind::PackageLock,
                )?);
            }
            Ok(())
        }
        Err(ReleaseError::NoVersion { .. }) => Ok(()),
        Err(e) => Err(e),
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
