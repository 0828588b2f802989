//! JSON version files, edited in the text (re-serialising a lock file would
//! reformat thousands of lines): `package.json` (`$.version`),
//! `package-lock.json` (`$.version` and `$.packages[""].version`), the MCP
//! Registry's `server.json` (`$.version` and `$.packages[*].version`), and any
//! JSON file whose fields `runway.toml` names by path.
//!
//! A field path is `$` followed by `.key`, `["key"]`, `[N]` or `[*]` steps.

use std::ops::Range;
use std::path::Path;

use super::{Detection, Kind, Location, line_col, loc, parse_json, read_file};
use crate::error::{ReleaseError, Result};

/// How deep a JSON text is walked; far below what any version file nests.
const MAX_DEPTH: usize = 64;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    AnyIndex,
}

/// One step of where a value sits.
#[derive(Debug, Clone, PartialEq, Eq)]
enum At {
    Key(String),
    Index(usize),
}

/// The field paths a kind of JSON file keeps its version in.
pub(super) fn fields_of(kind: &Kind) -> Vec<String> {
    match kind {
        Kind::PackageJson => vec!["$.version".into()],
        Kind::PackageLock => vec!["$.version".into(), "$.packages[\"\"].version".into()],
        Kind::ServerJson => vec!["$.version".into(), "$.packages[*].version".into()],
        Kind::Json { fields } => fields.clone(),
        _ => Vec::new(),
    }
}

/// Parses `$.packages[*].version`; the error says what is wrong with it.
fn parse_path(path: &str) -> std::result::Result<Vec<Step>, String> {
    let rest = path
        .trim()
        .strip_prefix('$')
        .ok_or("a field path starts with `$`")?;
    let b = rest.as_bytes();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let end = rest[i + 1..]
                    .find(['.', '['])
                    .map_or(rest.len(), |p| i + 1 + p);
                let key = &rest[i + 1..end];
                if key.is_empty() {
                    return Err("an empty key after `.`".into());
                }
                steps.push(Step::Key(key.to_owned()));
                i = end;
            }
            b'[' => {
                let end = rest[i..]
                    .find(']')
                    .map(|p| i + p)
                    .ok_or("a `[` without its `]`")?;
                let inner = &rest[i + 1..end];
                steps.push(if inner == "*" {
                    Step::AnyIndex
                } else if let Some(k) = inner.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
                    Step::Key(k.to_owned())
                } else {
                    Step::Index(
                        inner.parse().map_err(|_| {
                            format!("`[{inner}]` is not `[N]`, `[*]` or `[\"key\"]`")
                        })?,
                    )
                });
                i = end + 1;
            }
            _ => return Err(format!("unexpected `{}`", &rest[i..])),
        }
    }
    if steps.is_empty() {
        return Err("the path names no field".into());
    }
    Ok(steps)
}

fn matches(steps: &[Step], at: &[At]) -> bool {
    steps.len() == at.len()
        && steps.iter().zip(at).all(|(s, a)| match (s, a) {
            (Step::Key(k), At::Key(a)) => k == a,
            (Step::Index(n), At::Index(a)) => n == a,
            (Step::AnyIndex, At::Index(_)) => true,
            _ => false,
        })
}

fn bad_path(rel: &Path, path: &str, why: String) -> ReleaseError {
    ReleaseError::Config(format!(
        "`release.files` field `{path}` for `{}`: {why}",
        rel.display()
    ))
}

/// Every string value the paths name, in text order, with the path it matched.
fn targets(rel: &Path, text: &str, fields: &[String]) -> Result<Vec<(String, Range<usize>)>> {
    let mut parsed = Vec::new();
    for f in fields {
        parsed.push((f, parse_path(f).map_err(|why| bad_path(rel, f, why))?));
    }
    let mut out = Vec::new();
    for (at, range) in string_spans(text) {
        if let Some((f, _)) = parsed.iter().find(|(_, steps)| matches(steps, &at)) {
            out.push(((*f).clone(), range));
        }
    }
    Ok(out)
}

pub(super) fn read(rel: &Path, text: &str, kind: &Kind) -> Result<Vec<Location>> {
    parse_json(rel, text)?;
    let fields = fields_of(kind);
    let mut out = Vec::new();
    for (field, range) in targets(rel, text, &fields)? {
        let value: String = serde_json::from_str(&text[range.clone()]).unwrap_or_default();
        let shown = match kind {
            // The names these files always used.
            Kind::PackageJson | Kind::PackageLock => field.trim_start_matches("$.").to_owned(),
            _ => field,
        };
        out.push(loc(&shown, &value, line_col(text, range.start).0));
    }
    Ok(out)
}

pub(super) fn write(rel: &Path, text: &str, kind: &Kind, new: &str) -> Result<String> {
    let mut ranges: Vec<Range<usize>> = targets(rel, text, &fields_of(kind))?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    ranges.sort_by_key(|r| std::cmp::Reverse(r.start));
    let mut out = text.to_owned();
    for r in ranges {
        out.replace_range(r, &json_escape(new));
    }
    Ok(out)
}

fn json_escape(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// `package.json` with a version and its lock file, and an MCP Registry `server.json`.
/// Versions that say "no version here": semantic-release's documented
/// placeholders for a package whose version lives in the git tags.
const SEMANTIC_RELEASE_PLACEHOLDERS: &[&str] =
    &["0.0.0-development", "0.0.0-semantically-released"];

pub(super) fn detect(root: &Path, det: &mut Detection) -> Result<()> {
    if root.join("package.json").is_file() {
        match read_file(root, Path::new("package.json"), &Kind::PackageJson) {
            // semantic-release's placeholder: the version lives in the tags,
            // and the publish step writes it into the package, not a commit.
            Ok(f) if SEMANTIC_RELEASE_PLACEHOLDERS.contains(&f.version()) => {
                det.dynamic.push(super::DynamicVersion {
                    declared_in: "package.json".into(),
                    line: f.locations.first().map_or(1, |l| l.line),
                    lives_in: format!(
                        "the git tags (`{}` is semantic-release's placeholder; the publish step writes the version into the package)",
                        f.version()
                    ),
                    from_git_tags: true,
                });
            }
            Ok(f) => {
                det.files.push(f);
                if root.join("package-lock.json").is_file() {
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
    if root.join("server.json").is_file() {
        match read_file(root, Path::new("server.json"), &Kind::ServerJson) {
            Ok(f) => det.files.push(f),
            Err(ReleaseError::NoVersion { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Byte ranges (quotes included) of every string value in a JSON text, with
/// where it sits; the text must already be valid JSON. Keys are unescaped.
fn string_spans(text: &str) -> Vec<(Vec<At>, Range<usize>)> {
    let mut s = Scanner {
        b: text.as_bytes(),
        text,
        i: 0,
        at: Vec::new(),
        out: Vec::new(),
    };
    s.value(0);
    s.out
}

struct Scanner<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
    at: Vec<At>,
    out: Vec<(Vec<At>, Range<usize>)>,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// Skips a string starting at `self.i` (a `"`); returns its range.
    fn string(&mut self) -> Range<usize> {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() && self.b[self.i] != b'"' {
            if self.b[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        self.i = (self.i + 1).min(self.b.len());
        start..self.i
    }

    fn value(&mut self, depth: usize) {
        self.ws();
        if self.i >= self.b.len() || depth > MAX_DEPTH {
            return;
        }
        match self.b[self.i] {
            b'"' => {
                let r = self.string();
                self.out.push((self.at.clone(), r));
            }
            b'{' => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.i >= self.b.len() {
                        return;
                    }
                    match self.b[self.i] {
                        b'}' => {
                            self.i += 1;
                            return;
                        }
                        b',' => self.i += 1,
                        b'"' => {
                            let r = self.string();
                            let key: String =
                                serde_json::from_str(&self.text[r]).unwrap_or_default();
                            self.ws();
                            if self.b.get(self.i) == Some(&b':') {
                                self.i += 1;
                            }
                            self.at.push(At::Key(key));
                            self.value(depth + 1);
                            self.at.pop();
                        }
                        _ => self.i += 1,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    if self.i >= self.b.len() {
                        return;
                    }
                    match self.b[self.i] {
                        b']' => {
                            self.i += 1;
                            return;
                        }
                        b',' => {
                            self.i += 1;
                            n += 1;
                        }
                        _ => {
                            self.at.push(At::Index(n));
                            let before = self.i;
                            self.value(depth + 1);
                            self.at.pop();
                            if self.i == before {
                                self.i += 1;
                            }
                        }
                    }
                }
            }
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter.
                while self.i < self.b.len() && !matches!(self.b[self.i], b',' | b'}' | b']') {
                    self.i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_parse_and_bad_ones_say_why() {
        assert_eq!(
            parse_path("$.packages[*].version").unwrap(),
            vec![
                Step::Key("packages".into()),
                Step::AnyIndex,
                Step::Key("version".into())
            ]
        );
        assert_eq!(
            parse_path("$.packages[\"\"].version").unwrap()[1],
            Step::Key(String::new())
        );
        assert_eq!(parse_path("$.a[2]").unwrap()[1], Step::Index(2));
        assert!(
            parse_path("version")
                .unwrap_err()
                .contains("starts with `$`")
        );
        assert!(parse_path("$.a[x]").unwrap_err().contains("`[x]`"));
        assert!(parse_path("$").is_err());
    }

    #[test]
    fn server_json_keeps_every_version_in_step() {
        let text = "{\n  \"$schema\": \"https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json\",\n  \"name\": \"io.github.o/srv\",\n  \"version\": \"1.2.0\",\n  \"packages\": [\n    {\"registryType\": \"pypi\", \"identifier\": \"srv\", \"version\": \"1.2.0\",\n     \"transport\": {\"type\": \"stdio\"}},\n    {\"registryType\": \"oci\", \"identifier\": \"ghcr.io/o/srv\", \"version\": \"1.2.0\"}\n  ],\n  \"remotes\": [{\"type\": \"streamable-http\", \"url\": \"https://x/mcp\", \"version\": \"9\"}]\n}\n";
        let rel = Path::new("server.json");
        let locs = read(rel, text, &Kind::ServerJson).unwrap();
        assert_eq!(locs.len(), 3, "{locs:?}");
        assert_eq!(locs[0].line, 4);
        assert_eq!(locs[1].field, "$.packages[*].version");
        let out = write(rel, text, &Kind::ServerJson, "1.3.0").unwrap();
        assert_eq!(out.matches("\"1.3.0\"").count(), 3, "{out}");
        assert!(out.contains("\"version\": \"9\""), "{out}");
        assert_eq!(out.len(), text.len());
    }
}
